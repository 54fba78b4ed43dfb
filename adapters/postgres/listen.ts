// deno-lint-ignore-file no-explicit-any
import type { SqlClient } from "./client.ts";

/** A subscription to a channel's notifications. */
export interface Listener {
  /** False once its connection was lost; the relay then listens again. */
  readonly alive: () => boolean;
  /** Stops listening and gives the connection back. */
  close(): Promise<void>;
}

/**
 * Listens to a channel with whatever the client offers: postgres.js's `listen` (which
 * reconnects by itself and calls `onNotify` again on each reconnect, when notifications may have
 * been missed), PGlite's `listen`, a node-postgres pool (one connection of it, held) or client.
 * A bare query function cannot listen: the relay polls.
 *
 * @param client the relay's client
 * @param channel the channel, a plain lower-case identifier
 * @param onNotify called on each notification (and after a reconnect)
 * @returns the listener, or undefined when the client cannot listen
 */
export async function listen(client: SqlClient, channel: string, onNotify: () => void): Promise<Listener | undefined> {
  const c = client as any;
  if (typeof client === "function" && typeof c.unsafe !== "function") return undefined;
  if (typeof c.listen === "function" && typeof c.unsafe === "function") {
    // postgres.js: the third argument runs on every (re)connect of the listening connection.
    const request = await c.listen(channel, onNotify, onNotify);
    return { alive: () => true, close: () => request.unlisten() };
  }
  if (typeof c.listen === "function") {
    // PGlite: notifications within the instance.
    const unlisten = await c.listen(channel, onNotify);
    return { alive: () => true, close: () => unlisten() };
  }
  if (typeof c.connect === "function" && "idleCount" in c) return await listenOnPool(c, channel, onNotify);
  if (typeof c.on === "function" && typeof c.query === "function") {
    return await listenOnClient(c, c, channel, onNotify, () => Promise.resolve());
  }
  return undefined;
}

async function listenOnPool(pool: any, channel: string, onNotify: () => void): Promise<Listener> {
  const conn = await pool.connect();
  let released = false;
  return await listenOnClient(conn, conn, channel, onNotify, (error?: unknown) => {
    if (released) return Promise.resolve();
    released = true;
    conn.release(error instanceof Error ? error : undefined);
    return Promise.resolve();
  });
}

async function listenOnClient(
  conn: any,
  emitter: any,
  channel: string,
  onNotify: () => void,
  done: (error?: unknown) => Promise<void>,
): Promise<Listener> {
  let alive = true;
  const onNotification = (message: { channel: string }) => {
    if (message.channel === channel) onNotify();
  };
  const onError = (error: unknown) => {
    alive = false;
    cleanup();
    void done(error);
  };
  const onEnd = () => onError(new Error("connection ended"));
  const cleanup = () => {
    emitter.off?.("notification", onNotification);
    emitter.off?.("error", onError);
    emitter.off?.("end", onEnd);
  };
  emitter.on("notification", onNotification);
  emitter.on("error", onError);
  emitter.on("end", onEnd);
  try {
    await conn.query(`LISTEN ${channel}`);
  } catch (error) {
    onError(error);
    throw error;
  }
  return {
    alive: () => alive,
    async close() {
      if (!alive) return;
      alive = false;
      cleanup();
      await conn.query(`UNLISTEN ${channel}`).catch(() => {});
      await done();
    },
  };
}
