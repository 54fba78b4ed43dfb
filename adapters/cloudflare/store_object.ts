import type { EventRecord, HandlerInfo, ListQuery, StatusCounts } from "../../driver/mod.ts";
import { nextSweep, OPEN_STATUSES, type SweepConfig, sweepOverdue } from "./overdue.ts";
import type { DurableObjectStateLike, SqlStorageLike, WorkerEnv } from "./platform.ts";
import {
  countRecords,
  createRecords,
  pageRecords,
  type Position,
  readRecord,
  sweep,
  upsertRecord,
} from "./record_sql.ts";
import { announceHandlers, knownHandlers } from "./registry_sql.ts";
import { ObjectBase } from "./object_base.ts";
import { serveObject } from "./rpc.ts";
import { migrate, readMeta, writeMeta } from "./store_schema.ts";

const SWEEP_EVERY = 512;
/** A stored body outlives any delivery: one year of delay plus the longest retry age. */
const BODY_RETENTION = 400 * 86_400_000;
const RETRY_AFTER_FAILURE = 30_000;
const OPEN = new Set(OPEN_STATUSES);

/**
 * The Durable Object that keeps event records, dead letters and large bodies in SQLite: one
 * shard of them, picked by a hash of the event id. Re-export it from your Worker's main module
 * and declare it in `wrangler.toml` under `new_sqlite_classes` (see the README).
 *
 * Every write to one shard runs alone, so that publishing the same id twice from two Worker
 * instances stores it once within the dedup window.
 *
 * Its alarm sweeps for events that never reached a consumer (see `sweepAfter` of
 * `cloudflareDriver`); shard 0 also keeps the handlers each Worker version announces.
 *
 * @example Re-export from the Worker
 * ```ts ignore
 * export { EdgebusScheduler, EdgebusStore } from "edgebus/cloudflare";
 * ```
 */
export class EdgebusStore extends ObjectBase {
  readonly #sql: SqlStorageLike;
  readonly #state: DurableObjectStateLike;
  readonly #env: WorkerEnv;
  #writes = 0;
  /** The sweep's settings as last written, JSON (see {@linkcode EdgebusStore.watch}). */
  #sweep: string | undefined;
  /** When the alarm is set for, as this object last set or read it. */
  #alarm: number | null = null;

  /**
   * Opens the shard's tables, migrating them when an older release made them; the platform
   * calls it.
   *
   * @param state the object's state, from the platform
   * @param env the Worker's environment, which holds the Queue producers the sweep sends with
   */
  constructor(state: DurableObjectStateLike, env: WorkerEnv = {}) {
    super(state, env);
    this.#state = state;
    this.#sql = state.storage.sql;
    this.#env = env;
    migrate(state.storage);
    this.#sweep = readMeta(state.storage, "sweep");
    void state.blockConcurrencyWhile(async () => void (this.#alarm = await state.storage.getAlarm()));
  }

  /**
   * Answers calls that come as JSON over `fetch` (a driver of an older release); the driver
   * calls the methods below through Workers RPC.
   *
   * @param request a call from the driver
   * @returns the answer
   */
  fetch(request: Request): Promise<Response> {
    return serveObject(request, {
      get: (id: string) => this.get(id),
      create: (records: EventRecord[], dedupSince: number, retention: number, config?: SweepConfig) =>
        this.create(records, dedupSince, retention, config),
      put: (record: EventRecord, retention: number, config?: SweepConfig) => this.put(record, retention, config),
      delete: (id: string) => this.delete(id),
      page: (query: ListQuery, after?: Position) => this.page(query, after),
      count: () => this.count(),
      putBodies: (rows: [string, string][]) => this.putBodies(rows),
      getBody: (id: string) => this.getBody(id),
      deleteBodies: (ids: string[]) => this.deleteBodies(ids),
      announce: (handlers: HandlerInfo[], at: number, ttl: number) => this.announce(handlers, at, ttl),
      known: (since: number) => this.known(since),
    });
  }

  /** The record of `id`, or undefined. */
  get(id: string): EventRecord | undefined {
    return readRecord(this.#sql, id);
  }

  /** Inserts records unless published within the dedup window; true per record inserted. */
  async create(
    records: readonly EventRecord[],
    dedupSince: number,
    retention: number,
    config?: SweepConfig,
  ): Promise<boolean[]> {
    const created = this.#state.storage.transactionSync(() => createRecords(this.#sql, records, dedupSince));
    this.#wrote(records.length, retention);
    await this.watch(records.filter((_, i) => created[i]), config);
    return created;
  }

  /** Replaces a record. */
  async put(record: EventRecord, retention: number, config?: SweepConfig): Promise<void> {
    upsertRecord(this.#sql, record);
    this.#wrote(1, retention);
    await this.watch([record], config);
  }

  /** Records that a Worker version has these handlers (shard 0). */
  announce(handlers: readonly HandlerInfo[], at: number, ttl: number): void {
    announceHandlers(this.#state.storage, handlers, at, ttl);
  }

  /** The handlers announced since `since` (shard 0). */
  known(since: number): HandlerInfo[] {
    return knownHandlers(this.#state.storage, since);
  }

  /**
   * Keeps the sweep's settings and arms the alarm for when the earliest of these records, if
   * still open, would count as lost. The driver sends its settings with every write because
   * routes are options of `cloudflareDriver`, known to the Worker and not to this object; they
   * are kept in `meta` so that the alarm can use them after an eviction. When two Worker
   * versions disagree, the last writer's settings win.
   */
  async watch(records: readonly EventRecord[], config?: SweepConfig): Promise<void> {
    if (!config) return;
    const json = JSON.stringify(config);
    if (json !== this.#sweep) writeMeta(this.#state.storage, "sweep", this.#sweep = json);
    let earliest = Infinity;
    for (const r of records) {
      if (OPEN.has(r.status)) earliest = Math.min(earliest, Math.max(r.due, r.updatedAt) + config.after);
    }
    if (earliest < (this.#alarm ?? Infinity)) await this.#arm(earliest);
  }

  /** Re-sends the events that never reached a consumer, then arms itself for the next look. */
  async alarm(): Promise<void> {
    this.#alarm = null;
    const config = this.#sweep === undefined ? undefined : JSON.parse(this.#sweep) as SweepConfig;
    if (!config) return;
    // The platform's clock: an alarm runs without a driver, so it cannot use the bus's.
    const now = Date.now();
    try {
      const more = await sweepOverdue(this.#state.storage, this.#env, config, now);
      const next = more ? now : nextSweep(this.#state.storage, now, config.after);
      if (next !== undefined) await this.#arm(next);
    } catch (error) {
      console.error("edgebus: could not re-send overdue events; trying again shortly", error);
      await this.#arm(now + RETRY_AFTER_FAILURE);
    }
  }

  /** Removes a record; true when there was one. */
  delete(id: string): boolean {
    return this.#sql.exec("DELETE FROM records WHERE id = ?", id).rowsWritten > 0;
  }

  /** Up to `limit + 1` records after `after`, newest first. */
  page(query: ListQuery, after?: Position): EventRecord[] {
    return pageRecords(this.#sql, query, after);
  }

  /** How many records of each status this shard holds. */
  count(): StatusCounts {
    return countRecords(this.#sql);
  }

  /** Stores envelopes (as JSON) too large for a queue message, by event id. */
  putBodies(rows: readonly (readonly [id: string, envelope: string])[]): void {
    const now = Date.now();
    this.#state.storage.transactionSync(() => {
      for (const [id, envelope] of rows) {
        this.#sql.exec("INSERT OR REPLACE INTO bodies (id, envelope, created) VALUES (?, ?, ?)", id, envelope, now);
      }
    });
  }

  /** A stored envelope's JSON, or undefined. */
  getBody(id: string): string | undefined {
    const [row] = this.#sql.exec("SELECT envelope FROM bodies WHERE id = ?", id).toArray();
    return row?.envelope as string | undefined;
  }

  /** Removes stored envelopes once their events are finished. */
  deleteBodies(ids: readonly string[]): void {
    for (const id of ids) this.#sql.exec("DELETE FROM bodies WHERE id = ?", id);
  }

  async #arm(at: number): Promise<void> {
    this.#alarm = at;
    await this.#state.storage.setAlarm(at);
  }

  #wrote(count: number, retention: number): void {
    const before = this.#writes;
    this.#writes += count;
    if (Math.floor(before / SWEEP_EVERY) !== Math.floor(this.#writes / SWEEP_EVERY)) {
      sweep(this.#sql, Date.now(), retention, BODY_RETENTION);
    }
  }
}
