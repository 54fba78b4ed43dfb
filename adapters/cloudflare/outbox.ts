import { EdgebusError, type PublishItem, type PublishOptions } from "../../mod.ts";
import { idGenerator, publishItem } from "../../driver/mod.ts";
// The outbox rows and their checks are shared with the Postgres outbox; that file imports no library.
import { itemOfRow, type OutboxRow, rowsOf } from "../postgres/rows.ts";
import type { DurableObjectStateLike } from "./platform.ts";

/** Where a Durable Object outbox sends its rows: a bus (`createBus({ driver: cloudflareDriver() })`). */
export interface DurableOutboxTarget {
  /** Publishes several events, all or none; resolves to their ids. */
  publishBatch(items: readonly PublishItem[]): Promise<string[]>;
}

/** Options of {@linkcode durableOutbox}. */
export interface DurableOutboxOptions {
  /** The bus the rows go to; its driver sends them to its queue. */
  readonly bus: DurableOutboxTarget;
  /** The outbox table in the object's SQLite. @default {"edgebus_outbox"} */
  readonly table?: string;
  /** Rows sent per `publishBatch` call (Queues takes 100 a batch). @default {100} */
  readonly batchSize?: number;
  /** Called with each error the alarm survives (a failed send is retried later).
   * @default {logs it with console.error} */
  readonly onError?: (error: unknown) => void;
  /** The clock, epoch ms. @default {Date.now} */
  readonly now?: () => number;
}

/** An outbox inside a SQLite-backed Durable Object. */
export interface DurableOutbox {
  /** Writes an event row in the current transaction (synchronous, for `transactionSync`); returns its id. */
  publish(name: string, body?: unknown): string;
  /** The same with options: `after`, `id`, `correlationId`, `origin`. */
  publish(name: string, options: PublishOptions, body: unknown): string;
  /** Writes several event rows, after checking them all; returns their ids. */
  publishBatch(items: readonly PublishItem[]): string[];
  /** Call first in your `alarm()`: sends the waiting rows and re-arms your alarm. True when the
   * wake-up was the outbox's alone (return early), false when your own alarm is due. */
  alarm(): Promise<boolean>;
  /** Arms your own alarm through the outbox (instead of `ctx.storage.setAlarm`), so that it knows
   * your time: the real alarm is set to the earlier of yours and the outbox's. */
  setAlarm(at: number | Date): Promise<void>;
  /** Your own alarm, as set through the outbox or found set when the outbox armed; null if none. */
  getAlarm(): number | null;
  /** Removes your own alarm (the outbox keeps its wake-up if rows wait). */
  deleteAlarm(): Promise<void>;
  /** How many rows wait to be sent. */
  pending(): number;
}

const TABLE = /^[a-z_][a-z0-9_]{0,62}$/;
const BACKOFF_MAX = 60_000;

/**
 * A transactional outbox inside your own SQLite-backed Durable Object: `outbox.publish()` within
 * `ctx.storage.transactionSync(...)` writes the event row in the same transaction as your data, so
 * a throw leaves neither. The object's alarm sends rows to the bus with their ids (a re-send after
 * an eviction is deduplicated by the bus) and deletes them.
 *
 * Sharing the alarm: an object has one alarm. The outbox only ever moves it earlier; an alarm it
 * finds set and did not set itself is taken as yours, remembered, and set again after the rows
 * are sent, so yours is never dropped or delayed. Call `await outbox.alarm()` first in your
 * `alarm()` and return when it answers true. Arm your own alarms with `outbox.setAlarm(at)`:
 * a direct `ctx.storage.setAlarm` can move the outbox's wake-up later (rows then wait until
 * your alarm) and the outbox cannot tell that alarm from its own.
 *
 * @param ctx the object's state (`this.ctx` of a `DurableObject`)
 * @param options the bus, the table, the batch size
 * @returns the outbox; create it in the constructor, where it also arms the alarm for rows left
 * by an eviction
 * @throws {EdgebusError} code `invalid_option` for a bad table or batch size, or a missing bus
 *
 * @example In a Durable Object
 * ```ts ignore
 * import { DurableObject } from "cloudflare:workers";
 * import { durableOutbox } from "@edgebus/edgebus/cloudflare";
 * import { bus } from "./bus.ts"; // createBus({ driver: cloudflareDriver() }) at module scope
 *
 * export class Accounts extends DurableObject {
 *   outbox = durableOutbox(this.ctx, { bus });
 *   upgrade(id: string) {
 *     this.ctx.storage.transactionSync(() => {
 *       this.ctx.storage.sql.exec("UPDATE accounts SET plan = 'pro' WHERE id = ?", id);
 *       this.outbox.publish("account.upgraded", { id });
 *     });
 *   }
 *   async alarm() {
 *     if (await this.outbox.alarm()) return;
 *     // your own alarm's work
 *   }
 * }
 * ```
 */
export function durableOutbox(ctx: DurableObjectStateLike, options: DurableOutboxOptions): DurableOutbox {
  const { bus, table = "edgebus_outbox", batchSize = 100, now = Date.now } = options;
  const onError = options.onError ?? ((error: unknown) => console.error("edgebus durable outbox:", error));
  if (typeof bus?.publishBatch !== "function") {
    throw new EdgebusError("invalid_option", "durableOutbox() needs { bus }: the bus its rows are sent to");
  }
  if (!TABLE.test(table)) {
    throw new EdgebusError("invalid_option", `Invalid outbox table ${JSON.stringify(table)}: use a-z, 0-9 and _`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100) {
    throw new EdgebusError("invalid_option", `Invalid batchSize ${batchSize}: expected 1 to 100`);
  }
  const { storage } = ctx;
  const sql = storage.sql;
  const meta = `${table}_meta`;
  sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (id TEXT PRIMARY KEY, name TEXT NOT NULL, body TEXT NOT NULL,
    due INTEGER, correlation_id TEXT, origin TEXT, created INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_try INTEGER NOT NULL DEFAULT 0, last_error TEXT)`);
  sql.exec(`CREATE TABLE IF NOT EXISTS ${meta} (key TEXT PRIMARY KEY, value INTEGER)`);
  const newId = idGenerator(now);

  const read = (key: "user" | "armed"): number | null =>
    (sql.exec(`SELECT value FROM ${meta} WHERE key = ?`, key).toArray()[0]?.value as number | undefined) ?? null;
  const write = (key: "user" | "armed", value: number | null): void => {
    if (value === null) sql.exec(`DELETE FROM ${meta} WHERE key = ?`, key);
    else sql.exec(`INSERT OR REPLACE INTO ${meta} (key, value) VALUES (?, ?)`, key, value);
  };
  /** When the rows need the alarm: the earliest retry time, or null without rows. */
  const rowsNeed = (): number | null =>
    (sql.exec(`SELECT min(next_try) AS t FROM ${table}`).toArray()[0]?.t as number | null | undefined) ?? null;
  const pending = (): number => sql.exec(`SELECT count(*) AS n FROM ${table}`).toArray()[0].n as number;

  /** Sets the real alarm to `at` unless it is already as early; an alarm found that is not the
   * outbox's is remembered as the user's. */
  async function armBy(at: number): Promise<void> {
    const current = await storage.getAlarm();
    const armed = read("armed");
    if (current !== null && current !== armed && read("user") !== current) write("user", current);
    if (current === null || current > at) {
      await storage.setAlarm(at);
      write("armed", at);
    }
  }

  // After the current synchronous code (the caller's transaction) is done.
  const rearm = (): void => void Promise.resolve().then(() => armBy(now())).catch(onError);

  function insert(rows: readonly OutboxRow[]): string[] {
    const created = now();
    for (const r of rows) {
      sql.exec(
        `INSERT OR IGNORE INTO ${table} (id, name, body, due, correlation_id, origin, created) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        r.id,
        r.name,
        r.body,
        r.due,
        r.correlationId,
        r.origin,
        created,
      );
    }
    // After the transaction: if it rolls back, the alarm finds nothing to send.
    rearm();
    return rows.map((r) => r.id);
  }

  async function sendDue(): Promise<void> {
    for (let rounds = 0; rounds < 50; rounds++) {
      const at = now();
      const rows = sql.exec(
        `SELECT id, name, body, due, correlation_id AS correlationId, origin, attempts FROM ${table}
         WHERE next_try <= ? ORDER BY created, id LIMIT ?`,
        at,
        batchSize,
      ).toArray() as unknown as (OutboxRow & { attempts: number })[];
      if (rows.length === 0) return;
      const ids = JSON.stringify(rows.map((r) => r.id));
      try {
        await bus.publishBatch(rows.map((row) => itemOfRow(row, at)));
        sql.exec(`DELETE FROM ${table} WHERE id IN (SELECT value FROM json_each(?))`, ids);
      } catch (error) {
        onError(error);
        // Each failure waits longer: 1 s doubling to 1 min.
        sql.exec(
          `UPDATE ${table} SET attempts = attempts + 1, last_error = ?,
             next_try = ? + min(?, 1000 * (1 << min(attempts, 16))) WHERE id IN (SELECT value FROM json_each(?))`,
          String((error as Error)?.message ?? error).slice(0, 2000),
          at,
          BACKOFF_MAX,
          ids,
        );
        return;
      }
    }
  }

  // Rows left by an eviction before their alarm was set go out when the object wakes.
  void ctx.blockConcurrencyWhile(async () => {
    if (pending() > 0) await armBy(rowsNeed() ?? now());
  }).catch(onError);

  return {
    publish(name: string, ...args: unknown[]): string {
      return insert(rowsOf([publishItem(name, args)], now(), newId))[0];
    },
    publishBatch(items) {
      return insert(rowsOf(items, now(), newId));
    },
    async alarm() {
      await sendDue();
      const at = now();
      const user = read("user");
      const yours = user !== null && user <= at;
      if (yours) write("user", null);
      const candidates = [yours ? null : user, rowsNeed()].filter((t): t is number => t !== null);
      write("armed", null);
      if (candidates.length > 0) {
        const next = Math.min(...candidates);
        await storage.setAlarm(next);
        write("armed", next);
      }
      return !yours;
    },
    async setAlarm(at) {
      const time = at instanceof Date ? at.getTime() : at;
      if (!Number.isFinite(time)) throw new EdgebusError("invalid_option", `Invalid alarm time ${String(at)}`);
      write("user", time);
      const need = rowsNeed();
      const next = need === null ? time : Math.min(time, need);
      await storage.setAlarm(next);
      write("armed", next);
    },
    getAlarm: () => read("user"),
    async deleteAlarm() {
      write("user", null);
      const need = rowsNeed();
      if (need === null) {
        await storage.deleteAlarm();
        write("armed", null);
      } else {
        await storage.setAlarm(need);
        write("armed", need);
      }
    },
    pending,
  } as DurableOutbox;
}
