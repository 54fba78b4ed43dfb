/** Shared by the NATS benchmarks: a server, the runtime's way to connect, and figures. */
import { connect as tcpConnect } from "@nats-io/transport-node";
import { wsconnect } from "@nats-io/nats-core";
import type { ConnectFn } from "../adapters/nats/mod.ts";
import type { NatsServer } from "../test/nats/server.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
/** The runtime running the bench. */
export const RUNTIME: string = g.Deno ? "deno" : g.Bun ? "bun" : "node";

/**
 * The transport for this runtime: WebSocket where there is one, TCP on Node 20. Deno's WebSocket
 * client is slow with many frames in flight, so `--tcp` (or `NATS_TRANSPORT=tcp`) picks TCP anywhere.
 */
export function reach(server: NatsServer): { servers: string; connect: ConnectFn; transport: string } {
  const args: string[] = g.Deno?.args ?? g.process?.argv ?? [];
  const wanted = args.includes("--tcp")
    ? "tcp"
    : g.process?.env?.NATS_TRANSPORT ?? (typeof g.WebSocket === "function" ? "ws" : "tcp");
  return wanted === "tcp"
    ? { servers: server.tcpUrl, connect: tcpConnect, transport: "tcp" }
    : { servers: server.wsUrl, connect: wsconnect, transport: "ws" };
}

/** Runs `count` calls of `fn`, at most `inFlight` at once; answers per-second throughput. */
export async function pipelined(count: number, inFlight: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < count) await fn(next++);
  }));
  return count / ((performance.now() - started) / 1000);
}

/** The p-th percentile of sorted numbers. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Formats a rate. */
export const rate = (n: number): string => `${Math.round(n).toLocaleString("en-US")}/s`;

/**
 * A plain nats.js connection for the raw peer of a benchmark: no reconnects, so a failure shows.
 * Typed `any` because the nats-core types of `ConnectFn` and of `@nats-io/jetstream` differ by package copy.
 *
 * @param connect the transport's connect
 * @param servers one URL or a cluster's
 * @param name the connection's name
 * @param noAsyncTraces `true` for edgebus's client setting (no stack trace kept per request),
 * which makes nats.js's requests cheaper; nats.js's default is `false`
 */
export async function rawConnection(
  connect: ConnectFn,
  servers: string | string[],
  name: string,
  noAsyncTraces = false,
  // deno-lint-ignore no-explicit-any
): Promise<any> {
  return await connect({
    servers: typeof servers === "string" ? [servers] : servers,
    timeout: 5_000,
    name,
    maxReconnectAttempts: 0,
    reconnectTimeWait: 0,
    noAsyncTraces,
  } as never);
}
