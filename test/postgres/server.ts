/**
 * Test harness: a real Postgres (Debian's `postgresql` package) in a temporary data directory,
 * on a free loopback port, its unix socket in the same directory. initdb and postgres refuse to
 * run as root, so as root both run as the `postgres` user (setpriv execs in place: the PID we
 * hold is the server's own). Works under Node, Deno and Bun (node: APIs).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { accepts, freePort } from "../lib/ports.ts";
import { join } from "node:path";
import process from "node:process";

/** A running server and how to reach it. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  /** The TCP port. */
  readonly port: number;
  /** Stops the server (fast shutdown) and keeps the data directory. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
}

/** The folder holding initdb and postgres: $PG_BIN, then PATH, then /usr/lib/postgresql/<newest>/bin. */
function binDir(): string {
  const candidates = [process.env.PG_BIN ?? ""];
  for (const dir of (process.env.PATH ?? "").split(":")) candidates.push(dir);
  const lib = "/usr/lib/postgresql";
  if (existsSync(lib)) {
    const versions = readdirSync(lib).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(join(lib, v, "bin"));
  }
  for (const dir of candidates.filter(Boolean)) {
    if (existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres"))) return dir;
  }
  throw new Error(
    "Postgres was not found: install it (Debian: `apt-get install -y postgresql`) or set PG_BIN to its bin folder",
  );
}

const asRoot = typeof process.getuid === "function" && process.getuid() === 0;

/** The command and arguments that run `bin` as the postgres user when we are root. */
function command(bin: string, args: string[]): [string, string[]] {
  if (!asRoot) return [bin, args];
  return ["setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", bin, ...args]];
}

/**
 * Starts a Postgres server on a free loopback port in a fresh data directory.
 *
 * @param settings extra `-c name=value` settings (fsync is off unless given: test data need not
 * survive a machine crash, only a server restart)
 * @returns the running server
 */
export async function startPostgres(settings: Record<string, string> = {}): Promise<PostgresServer> {
  const dir = binDir();
  const root = mkdtempSync(join(tmpdir(), "edgebus-pg-"));
  const data = join(root, "data");
  if (asRoot) execFileSync("chown", ["postgres:postgres", root]);
  const [initdb, initArgs] = command(join(dir, "initdb"), [
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "-E",
    "UTF8",
    "--no-sync",
  ]);
  execFileSync(initdb, initArgs, { stdio: "pipe" });
  const port = await freePort();
  const options = { fsync: "off", ...settings };
  let child: ChildProcess | undefined;
  let log = "";

  const launch = async (): Promise<void> => {
    const [bin, args] = command(join(dir, "postgres"), [
      "-D",
      data,
      "-p",
      String(port),
      "-k",
      root,
      "-c",
      "listen_addresses=127.0.0.1",
      ...Object.entries(options).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
    ]);
    const proc = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    proc.stderr?.on("data", (chunk) => (log = (log + String(chunk)).slice(-4000)));
    const end = Date.now() + 15_000;
    while (Date.now() < end) {
      if (proc.exitCode !== null) throw new Error(`postgres exited with ${proc.exitCode}: ${log}`);
      if (/ready to accept connections/.test(log) && await accepts(port)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    proc.kill("SIGKILL");
    throw new Error(`postgres did not accept on port ${port} within 15 s: ${log}`);
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGINT"); // fast shutdown: clients are disconnected, the data is kept
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
    log = "";
  };

  await launch();
  // The runners keep their processes between files: never leave a server behind the process.
  process.once("exit", () => {
    child?.kill("SIGKILL");
    rmSync(root, { recursive: true, force: true });
  });
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    kill,
    restart: launch,
    async stop() {
      await kill();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
