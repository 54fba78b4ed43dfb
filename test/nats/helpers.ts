/** Shared by the NATS tests: one server per test file, and drivers isolated by prefix. */
import assert from "node:assert/strict";
import { connect as tcpConnect } from "@nats-io/transport-node";
import type { Driver } from "../../mod.ts";
import { type ConnectFn, natsDriver, type NatsDriverOptions } from "../../adapters/nats/mod.ts";
import { wsconnect } from "@nats-io/nats-core";
import type { NatsServer } from "./server.ts";

let count = 0;

/** A prefix no other test uses. */
export function freshPrefix(): string {
  return `t${Date.now().toString(36)}${(count++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * A driver against the test server: WebSocket (`wsconnect`) on Deno and Bun; on Node 20, which
 * has no global WebSocket, the TCP transport of `@nats-io/transport-node` is injected.
 */
export function testDriver(server: NatsServer, options: NatsDriverOptions = {}, tcp?: boolean): Driver {
  return natsDriver({ storage: "memory", tick: 50, leaseTtl: 1_000, ...reach(server, tcp), ...options });
}

/** Whether this runtime has a global WebSocket (Deno, Bun); Node 20 has none and connects over TCP. */
export const hasWebSocket: boolean = typeof (globalThis as { WebSocket?: unknown }).WebSocket === "function";

/**
 * The servers and connect function for this runtime: WebSocket where there is one, TCP on Node
 * 20. `tcp: true` asks for TCP anyway.
 */
export function reach(server: NatsServer, tcp = !hasWebSocket): { servers: string; connect: ConnectFn } {
  return tcp ? { servers: server.tcpUrl, connect: tcpConnect } : { servers: server.wsUrl, connect: wsconnect };
}

/**
 * The error a call rejects with, checked to be of `type`; fails the test when the call resolves.
 *
 * @param call what should reject
 * @param type the error's class
 * @returns the error
 */
export async function rejection<E extends Error = Error>(
  call: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  type: new (...args: any[]) => E = Error as never,
): Promise<E> {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    return error;
  }
  throw new assert.AssertionError({ message: "expected a rejection" });
}
