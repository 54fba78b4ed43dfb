import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { EdgebusError } from "../../mod.ts";
import { unavailable } from "./errors.ts";

/** What the driver passes to the connect function: a subset of nats.js `ConnectionOptions`. */
export interface NatsConnectOptions {
  /** Server URLs. */
  readonly servers: string[];
  /** ms to wait for the first connection. */
  readonly timeout: number;
  /** The client name the server shows. */
  readonly name: string;
  /** Reconnect attempts; -1 for ever. */
  readonly maxReconnectAttempts: number;
  /** ms between reconnect attempts. */
  readonly reconnectTimeWait: number;
  /** Whether nats.js skips recording a stack trace per request (edgebus sets it: it costs CPU). */
  readonly noAsyncTraces?: boolean;
}

/**
 * The part of a nats.js `NatsConnection` named in edgebus's types; the driver uses the whole
 * connection, so the function must return a real nats.js connection.
 */
export interface NatsConnectionLike {
  /** Closes the connection. */
  close(): Promise<void>;
  /** Drains subscriptions, then closes. */
  drain(): Promise<void>;
}

/**
 * Opens a NATS connection: `wsconnect` of `@nats-io/nats-core` by default, or `connect` of
 * `@nats-io/transport-node` (TCP) where the runtime's WebSocket is missing or slow.
 */
export type ConnectFn = (options: NatsConnectOptions) => Promise<NatsConnectionLike>;

/** The driver's connection, opened on first use and reopened for calls made after `close()`. */
export interface Link {
  /** The shared connection, opened once. */
  get(): Promise<NatsConnection>;
  /** Runs `fn` on the shared connection, or on a short-lived one once the link is closed. */
  use<T>(fn: (nc: NatsConnection) => Promise<T>): Promise<T>;
  /** Drains and closes the shared connection. */
  close(): Promise<void>;
}

/**
 * Checks, before anything waits on a socket, that a connection can be made at all: without a
 * global `WebSocket` (Node 20) `wsconnect` would hang instead of failing.
 *
 * @param connect the injected connect function, if any
 * @returns the connect function to use
 * @throws {EdgebusError} code `unavailable` when there is neither
 */
export function chooseConnect(connect: ConnectFn | undefined): ConnectFn {
  if (connect) return connect;
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket !== "function") {
    throw new EdgebusError(
      "unavailable",
      "Cannot use the NATS driver: this runtime has no global WebSocket (Node 20 lacks one); run Node 22+, pass " +
        "`connect` from @nats-io/transport-node, or start Node with --experimental-websocket",
    );
  }
  return wsconnect;
}

/**
 * Makes the driver's link to NATS.
 *
 * @param connect how to connect
 * @param options passed to `connect` (servers, timeout, name)
 * @param onOpen runs once on each new connection before it is used (stream setup)
 * @returns the link
 */
export function createLink(
  connect: ConnectFn,
  options: NatsConnectOptions,
  onOpen: (nc: NatsConnection) => Promise<void>,
): Link {
  let shared: Promise<NatsConnection> | undefined;
  let closed = false;

  const open = async (): Promise<NatsConnection> => {
    let nc: NatsConnection;
    try {
      nc = await connect(options) as NatsConnection;
    } catch (error) {
      throw unavailable(`connect to NATS at ${String(options.servers)}`, error);
    }
    try {
      await onOpen(nc);
    } catch (error) {
      await nc.close().catch(() => {});
      throw unavailable("set up the JetStream streams", error);
    }
    return nc;
  };

  const get = (): Promise<NatsConnection> => {
    if (closed) return Promise.reject(new EdgebusError("stopped", "Cannot use the NATS driver: it is stopped"));
    shared ??= open().catch((error) => {
      shared = undefined; // let the next call try again
      throw error;
    });
    return shared;
  };

  return {
    get,
    async use(fn) {
      if (!closed) return fn(await get());
      const nc = await open();
      try {
        return await fn(nc);
      } finally {
        await nc.close().catch(() => {});
      }
    },
    async close() {
      closed = true;
      const nc = await shared?.catch(() => undefined);
      shared = undefined;
      await nc?.drain().catch(() => nc.close());
    },
  };
}

/**
 * `promise`, or a rejection once `ms` passed: the request itself is not cancelled, only not
 * waited for. On a cluster, a request that reached a server just before it died is never answered, and nats.js
 * would wait its whole timeout (5 s) for it.
 *
 * @param promise the request
 * @param ms how long to wait
 * @returns what the request answered
 */
export function atMost<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`NATS did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
