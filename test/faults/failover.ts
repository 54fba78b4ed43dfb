/** What the failover cases share: a server, three scheduling workers, and who holds the lease. */
import type { ChildProcess } from "node:child_process";
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { startNatsServer } from "../nats/server.ts";
import type { NatsServer } from "../nats/server.ts";
import { leaderPid } from "./lease_owner.ts";
import { waitFor } from "./ledger.ts";
import { ledgerFile, lines, startWorker } from "./processes.ts";

/** A running failover setup. */
export interface Failover {
  readonly server: NatsServer;
  readonly file: string;
  readonly nc: NatsConnection;
  readonly workers: ChildProcess[];
  /** The pid of the worker holding the scheduler's lease, if any. */
  leader(): Promise<number | undefined>;
}

/**
 * Starts a nats-server and three workers that run the `delayed` handler and schedule with the
 * default lease (750 ms) and round (250 ms), and waits until one holds the lease.
 *
 * @param prefix the application's prefix
 * @returns the setup
 */
export async function startFailover(prefix: string): Promise<Failover> {
  const server = await startNatsServer();
  const file = ledgerFile();
  const env = {
    NATS_URL: server.wsUrl,
    PREFIX: prefix,
    LEDGER: file,
    HANDLERS: "delayed",
    LEASE_TTL: "750",
    TICK: "250",
    LEASE_LOG: "1",
  };
  const nc = await wsconnect({ servers: server.wsUrl });
  const leader = () => leaderPid(nc, prefix, lines(file));
  const workers = [await startWorker(env), await startWorker(env), await startWorker(env)];
  if (!(await waitFor(async () => (await leader()) !== undefined, 10_000, 50))) {
    throw new Error("no worker took the lease");
  }
  return { server, file, nc, workers, leader };
}
