/** Starts fault-suite worker processes (under Bun) and reads their ledger file. */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { waitFor } from "./ledger.ts";

/** A ledger file in a fresh directory, removed when the case's process exits. */
export function ledgerFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "edgebus-fault-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "ledger.txt");
}

/** The ledger file's lines, split into words. */
export function lines(file: string): string[][] {
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => l.split(" ")) : [];
}

/** Starts a worker and waits until it says it is ready. */
export async function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  const bun = process.execPath.includes("bun") ? process.execPath : "node_modules/.bin/bun";
  const child = spawn(bun, ["test/faults/worker.ts"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit"],
  });
  process.once("exit", () => child.kill("SIGKILL"));
  const ready = await waitFor(
    () => lines(env.LEDGER).some(([w, pid]) => w === "ready" && Number(pid) === child.pid),
    15_000,
  );
  if (!ready) throw new Error(`worker ${child.pid} did not start within 15 s`);
  return child;
}

/** Kills a worker with SIGKILL and waits until it is gone. */
export async function killWorker(child: ChildProcess): Promise<void> {
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  await gone;
}

/** Stops a worker with SIGTERM (its bus stops gracefully) and waits until it is gone. */
export async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  await gone;
}
