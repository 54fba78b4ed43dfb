/**
 * The browser test's servers: the example Worker under `wrangler dev`, and the Bun server over a
 * real nats-server, each on free loopback ports, stopped by the process id the test started.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { freePort } from "../lib/ports.ts";

/** A server the test started. */
export interface Target {
  readonly origin: string;
  stop(): Promise<void>;
}

async function ready(origin: string, child: ChildProcess, log: () => string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`The server exited (${child.exitCode}):\n${log()}`);
    try {
      const r = await fetch(`${origin}/health`);
      if (r.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`The server at ${origin} did not answer within ${ms} ms:\n${log()}`);
}

function stopper(child: ChildProcess, cleanup: () => void): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      const exited = new Promise((r) => child.once("exit", r));
      process.kill(-child.pid, "SIGTERM");
      const timer = setTimeout(() => child.exitCode === null && process.kill(-child.pid!, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    cleanup();
  };
}

function launch(
  command: string,
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; log: () => string } {
  let output = "";
  // Its own process group, so that stopping it stops what it started (wrangler's workerd).
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  return { child, log: () => output.slice(-4_000) };
}

/** The example Worker (examples/worker.ts) under `wrangler dev`, with its state in a fresh directory. */
export async function startWorker(token: string): Promise<Target> {
  const [port, inspector] = [await freePort(), await freePort()];
  const state = mkdtempSync(join(tmpdir(), "edgebus-ui-"));
  const { child, log } = launch("node_modules/.bin/wrangler", [
    "dev",
    "--port",
    String(port),
    "--inspector-port",
    String(inspector),
    "--persist-to",
    state,
    "--var",
    `EDGEBUS_TOKEN:${token}`,
    "--show-interactive-dev-session=false",
  ], { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" });
  const origin = `http://127.0.0.1:${port}`;
  const stop = stopper(child, () => rmSync(state, { recursive: true, force: true }));
  try {
    await ready(origin, child, log, 45_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { origin, stop };
}

/** test/browser/bun_server.ts on Bun, over the given NATS server. */
export async function startBun(token: string, natsUrl: string): Promise<Target> {
  const port = await freePort();
  const { child, log } = launch("node_modules/.bin/bun", ["test/browser/bun_server.ts"], {
    NATS_URL: natsUrl,
    PORT: String(port),
    EDGEBUS_TOKEN: token,
  });
  const origin = `http://127.0.0.1:${port}`;
  const stop = stopper(child, () => {});
  try {
    await ready(origin, child, log, 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { origin, stop };
}
