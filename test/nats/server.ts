/**
 * Test harness: a real `nats-server` with JetStream (file storage in its own directory) and a
 * WebSocket listener, on free loopback ports. Works under Node, Deno and Bun (node: APIs).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { accepts, freePort } from "../lib/ports.ts";

/** A running server and how to reach it. */
export interface NatsServer {
  /** `ws://127.0.0.1:<port>` for `wsconnect`. */
  readonly wsUrl: string;
  /** `127.0.0.1:<port>` for a TCP client. */
  readonly tcpUrl: string;
  /** Stops the process (SIGTERM, then SIGKILL) and keeps the store. */
  kill(): Promise<void>;
  /** Starts the process again on the same ports and store. */
  restart(): Promise<void>;
  /** Rewrites the config with another JetStream file-store limit; takes effect at `restart()`. */
  setMaxFileStore(size: string): void;
  /** Sends a signal to the process (the fault suite's SIGKILL, SIGSTOP, SIGCONT); false if none runs. */
  signal(name: "SIGKILL" | "SIGSTOP" | "SIGCONT"): boolean;
  /** Stops the process and removes its store. */
  stop(): Promise<void>;
}

/** The nats-server binary: NATS_SERVER, or found on the usual paths. */
export function findBinary(): string {
  const candidates = [process.env.NATS_SERVER ?? "", "nats-server", "/usr/sbin/nats-server", "/usr/bin/nats-server"];
  for (const bin of candidates.filter(Boolean)) {
    try {
      execFileSync(bin, ["--version"], { stdio: "ignore" });
      return bin;
    } catch {
      // try the next place
    }
  }
  throw new Error(
    "nats-server was not found: install it (Debian: `apt-get install -y nats-server`) or set NATS_SERVER to its path",
  );
}

/** How {@linkcode startNatsServer} configures the server. */
export interface NatsServerOptions {
  /** JetStream's file-store limit, such as `"2MB"`. @default {"4GB"} */
  readonly maxFileStore?: string;
  /** More lines for the config, such as `authorization { ... }`. */
  readonly config?: readonly string[];
}

/**
 * Starts a nats-server with JetStream and WebSocket on free loopback ports.
 *
 * @param options the file-store limit and any more config
 * @returns the running server
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const bin = findBinary();
  const dir = mkdtempSync(join(tmpdir(), "edgebus-nats-"));
  const [tcp, ws] = [await freePort(), await freePort()];
  const config = join(dir, "nats.conf");
  const writeConfig = (maxFileStore: string): void =>
    writeFileSync(
      config,
      [
        `listen: "127.0.0.1:${tcp}"`,
        `jetstream { store_dir: "${join(dir, "js")}", max_memory_store: 256MB, max_file_store: ${maxFileStore} }`,
        `websocket { listen: "127.0.0.1:${ws}", no_tls: true, compression: false }`,
        ...options.config ?? [],
      ].join("\n"),
    );
  writeConfig(options.maxFileStore ?? "4GB");
  let child: ChildProcess | undefined;
  let log = "";

  const launch = async (): Promise<void> => {
    const proc = spawn(bin, ["-c", config], { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    proc.stderr?.on("data", (chunk) => (log = (log + String(chunk)).slice(-4000)));
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      if (proc.exitCode !== null) throw new Error(`nats-server exited with ${proc.exitCode}: ${log}`);
      if (await accepts(ws) && await accepts(tcp)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    proc.kill("SIGKILL");
    throw new Error(`nats-server did not accept on port ${ws} within 10 s: ${log}`);
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  // The test runners have no shared after-all hook: never leave a server behind the process.
  process.once("exit", () => {
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    wsUrl: `ws://127.0.0.1:${ws}`,
    tcpUrl: `127.0.0.1:${tcp}`,
    kill,
    restart: launch,
    setMaxFileStore: writeConfig,
    signal(name) {
      if (!child || child.exitCode !== null || child.signalCode !== null) return false;
      const sent = child.kill(name);
      if (name === "SIGKILL") child = undefined;
      return sent;
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
