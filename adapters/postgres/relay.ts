import { EdgebusError, type PublishItem } from "../../mod.ts";
import { type Query, type SqlClient, transactionsOf } from "./client.ts";
import { listen, type Listener } from "./listen.ts";
import { itemOfRow, type OutboxRow } from "./rows.ts";

/** Where a relay sends rows: a bus (memory, NATS, Cloudflare) or `remoteBus()` from `edgebus/remote`. */
export interface RelayTarget {
  /** Publishes several events, all or none; resolves to their ids. */
  publishBatch(items: readonly PublishItem[]): Promise<string[]>;
}

/** Options of `outbox.relay`. */
export interface RelayOptions {
  /** Rows claimed and sent per round. @default {100} */
  readonly batchSize?: number;
  /** How often to look for rows when no notification came, ms (the fallback when LISTEN is lost or
   * the client cannot listen). @default {1000} */
  readonly pollInterval?: number;
  /** How a relay holds the rows it sends. `"transaction"`: locked (`FOR UPDATE SKIP LOCKED`) by a
   * transaction kept open while they are sent, then deleted in it; a relay that dies releases them
   * at once, one that hangs holds them until its connection drops. `"lease"`: marked taken for
   * `lease` ms by one statement, with no transaction open during the send; a relay that dies delays
   * its rows by the lease. PGlite, a single node-postgres `Client` and a query function lease.
   * @default {"transaction" with postgres.js and node-postgres pools, else "lease"} */
  readonly claim?: "transaction" | "lease";
  /** With `claim: "lease"`, how long a claimed row stays with its relay, ms; then another relay
   * sends it again (the bus drops the copy by id). Keep it well above the time a send takes.
   * @default {30000} */
  readonly lease?: number;
  /** Keep sent rows this long, ms, before deleting them; 0 deletes them as soon as they are sent.
   * @default {0} */
  readonly retention?: number;
  /** Wake up on the outbox's NOTIFY. @default {true} */
  readonly listen?: boolean;
  /** Called with every error the relay survives (a failed send, a lost connection).
   * @default {logs it with console.error} */
  readonly onError?: (error: unknown) => void;
}

/** A running relay. */
export interface Relay {
  /** Sends every row that can be claimed now; resolves to how many were sent. */
  flush(): Promise<number>;
  /** Stops: waits for the round in progress, stops listening. */
  stop(): Promise<void>;
}

/** What a relay needs from its outbox. */
export interface RelayDeps {
  readonly client: SqlClient;
  readonly query: Query;
  readonly table: string;
  readonly channel: string;
  readonly now: () => number;
}

/** How long a relay keeps looking every {@linkcode BUSY_STEP_MS} after a wake-up or rows found, ms. */
const BUSY_MS = 100;
const BUSY_STEP_MS = 10;

const ids = (rows: readonly { id: string }[]): string => JSON.stringify(rows.map((r) => r.id));

function positive(name: string, value: number, min: number): number {
  if (!(typeof value === "number" && value >= min && Number.isFinite(value))) {
    throw new EdgebusError("invalid_option", `Invalid relay option ${name} ${value}: expected a number >= ${min}`);
  }
  return value;
}

/** Data errors are about the rows (a schema refused a body...); anything else is the target being away. */
const aboutRows = (error: unknown): boolean =>
  error instanceof EdgebusError && error.code !== "unavailable" && error.code !== "stopped";

/**
 * Starts a relay: claims committed rows (`FOR UPDATE SKIP LOCKED`, leased so that several relays
 * never send the same row at once), publishes them with their ids, then deletes them or marks
 * them sent.
 *
 * @param deps the outbox's client and table
 * @param target where rows go
 * @param options batch, polling, lease and retention
 * @returns the relay
 * @throws {EdgebusError} code `invalid_option` for bad options
 */
export function startRelay(deps: RelayDeps, target: RelayTarget, options: RelayOptions = {}): Relay {
  const { query, table, channel, now } = deps;
  const batchSize = positive("batchSize", options.batchSize ?? 100, 1);
  const pollInterval = positive("pollInterval", options.pollInterval ?? 1000, 1);
  const lease = positive("lease", options.lease ?? 30_000, 100);
  const retention = positive("retention", options.retention ?? 0, 0);
  const onError = options.onError ?? ((error: unknown) => console.error("edgebus outbox relay:", error));
  if (typeof target?.publishBatch !== "function") {
    throw new EdgebusError(
      "invalid_option",
      "Cannot relay: the target has no publishBatch (pass a bus or remoteBus())",
    );
  }

  const transactions = transactionsOf(deps.client);
  if (options.claim === "transaction" && !transactions) {
    throw new EdgebusError(
      "invalid_option",
      `Cannot relay with claim: "transaction": this client cannot open a transaction of its own (use a pool or sql)`,
    );
  }
  const inTransaction = options.claim === "lease" ? undefined : transactions;
  const locked = `SELECT id, name, body::text AS body, round(extract(epoch FROM due) * 1000)::float8 AS due,
  correlation_id AS "correlationId", origin FROM ${table}
WHERE sent_at IS NULL AND (locked_until IS NULL OR locked_until <= now())
ORDER BY created_at, id LIMIT $1::int FOR UPDATE SKIP LOCKED`;
  const claim = `UPDATE ${table} SET locked_until = now() + $2::float8 * interval '1 millisecond'
WHERE id IN (SELECT id FROM ${table} WHERE sent_at IS NULL AND (locked_until IS NULL OR locked_until <= now())
  ORDER BY created_at, id LIMIT $1::int FOR UPDATE SKIP LOCKED)
RETURNING id, name, body::text AS body, round(extract(epoch FROM due) * 1000)::float8 AS due,
  correlation_id AS "correlationId", origin`;
  const done = retention === 0
    ? `DELETE FROM ${table} WHERE id IN (SELECT json_array_elements_text($1::text::json))`
    : `UPDATE ${table} SET sent_at = now(), locked_until = NULL WHERE id IN (SELECT json_array_elements_text($1::text::json))`;
  // A row the target refused waits longer each time (1 s doubling to 1 min), keeping its error;
  // `attempts` counts these refusals only.
  const failed = `UPDATE ${table} SET last_error = $2, attempts = attempts + 1,
  locked_until = now() + least(60000, 1000 * power(2, least(attempts, 16))) * interval '1 millisecond'
WHERE id IN (SELECT json_array_elements_text($1::text::json))`;
  const cleanup = `DELETE FROM ${table} WHERE sent_at < now() - $1::float8 * interval '1 millisecond'`;

  let stopped = false;
  let lastCleanup = 0;
  // After a wake-up or a round that found rows, look again every 10 ms for a while: publishers send
  // at most one NOTIFY per few ms, and rows written meanwhile are found this way.
  let busyUntil = 0;
  let listener: Listener | undefined;
  let wake: (() => void) | undefined;
  let pending = false;
  const notify = () => {
    pending = true;
    busyUntil = now() + BUSY_MS;
    wake?.();
  };

  async function send(rows: readonly OutboxRow[], query: Query): Promise<number> {
    const at = now();
    try {
      await target.publishBatch(rows.map((row) => itemOfRow(row, at)));
    } catch (error) {
      if (rows.length > 1 && aboutRows(error)) {
        // One bad row must not hold back the others: send them one by one.
        let sent = 0;
        for (const row of rows) sent += await send([row], query);
        return sent;
      }
      onError(error);
      await query(failed, [ids(rows), String((error as Error)?.message ?? error).slice(0, 2000)]);
      return 0;
    }
    // Should this fail (the database away), the rows' lock or lease ends and they are sent again:
    // the bus keeps one event per id.
    await query(done, [ids(rows)]);
    return rows.length;
  }

  async function claimAndSend(): Promise<{ claimed: number; sent: number }> {
    if (inTransaction) {
      return await inTransaction(async (q) => {
        const rows = await q(locked, [batchSize]) as unknown as OutboxRow[];
        return { claimed: rows.length, sent: rows.length ? await send(rows, q) : 0 };
      });
    }
    const rows = await query(claim, [batchSize, lease]) as unknown as OutboxRow[];
    return { claimed: rows.length, sent: rows.length ? await send(rows, query) : 0 };
  }

  async function round(): Promise<{ claimed: number; sent: number }> {
    const { claimed, sent } = await claimAndSend();
    if (retention > 0 && now() - lastCleanup > 60_000) {
      lastCleanup = now();
      await query(cleanup, [retention]);
    }
    return { claimed, sent };
  }

  async function flush(): Promise<number> {
    let total = 0;
    for (;;) {
      const { claimed, sent } = await round();
      total += sent;
      if (claimed < batchSize) return total;
    }
  }

  async function ensureListening(): Promise<void> {
    if (options.listen === false || (listener && listener.alive())) return;
    try {
      listener = await listen(deps.client, channel, notify);
    } catch (error) {
      listener = undefined;
      onError(error);
    }
  }

  async function loop(): Promise<void> {
    while (!stopped) {
      await ensureListening();
      pending = false;
      let claimed = 0;
      try {
        claimed = (await round()).claimed;
      } catch (error) {
        onError(error);
      }
      if (stopped || (claimed === batchSize) || pending) continue;
      if (claimed > 0) busyUntil = now() + BUSY_MS;
      const wait = now() < busyUntil ? Math.min(BUSY_STEP_MS, pollInterval) : pollInterval;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => resolve(), wait);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  const running = loop();
  return {
    flush,
    async stop() {
      stopped = true;
      wake?.();
      await running;
      await listener?.close().catch(onError);
      listener = undefined;
    },
  };
}
