import type { EventRecord, ListQuery } from "../../mod.ts";
import type { DurableObjectStateLike, SqlStorageLike } from "./platform.ts";
import {
  createRecords,
  pageRecords,
  type Position,
  readRecord,
  RECORDS_SCHEMA,
  sweep,
  upsertRecord,
} from "./record_sql.ts";
import { serveObject } from "./rpc.ts";

const SWEEP_EVERY = 512;
/** A stored body outlives any delivery: one year of delay plus the longest retry age. */
const BODY_RETENTION = 400 * 86_400_000;

/**
 * The Durable Object that keeps event records, dead letters and large bodies in SQLite: one
 * shard of them, picked by a hash of the event id. Re-export it from your Worker's main module
 * and declare it in `wrangler.toml` under `new_sqlite_classes` (see the README).
 *
 * Every write to one shard runs alone, so that publishing the same id twice from two Worker
 * instances stores it once within the dedup window.
 *
 * @example Re-export from the Worker
 * ```ts ignore
 * export { EdgebusScheduler, EdgebusStore } from "edgebus/cloudflare";
 * ```
 */
export class EdgebusStore {
  readonly #sql: SqlStorageLike;
  readonly #state: DurableObjectStateLike;
  #writes = 0;

  /**
   * Opens the shard's tables; the platform calls it.
   *
   * @param state the object's state, from the platform
   * @param _env the Worker's environment
   */
  constructor(state: DurableObjectStateLike, _env?: unknown) {
    this.#state = state;
    this.#sql = state.storage.sql;
    for (const statement of RECORDS_SCHEMA) this.#sql.exec(statement);
  }

  /**
   * Answers the driver's calls.
   *
   * @param request a call from the driver
   * @returns the answer
   */
  fetch(request: Request): Promise<Response> {
    return serveObject(request, {
      get: (id: string) => this.get(id),
      create: (records: EventRecord[], dedupSince: number, retention: number) =>
        this.create(records, dedupSince, retention),
      put: (record: EventRecord, retention: number) => this.put(record, retention),
      delete: (id: string) => this.delete(id),
      page: (query: ListQuery, after?: Position) => this.page(query, after),
      putBodies: (rows: [string, string][]) => this.putBodies(rows),
      getBody: (id: string) => this.getBody(id),
      deleteBodies: (ids: string[]) => this.deleteBodies(ids),
    });
  }

  /** The record of `id`, or undefined. */
  get(id: string): EventRecord | undefined {
    return readRecord(this.#sql, id);
  }

  /** Inserts records unless published within the dedup window; true per record inserted. */
  create(records: readonly EventRecord[], dedupSince: number, retention: number): boolean[] {
    const created = this.#state.storage.transactionSync(() => createRecords(this.#sql, records, dedupSince));
    this.#wrote(records.length, retention);
    return created;
  }

  /** Replaces a record. */
  put(record: EventRecord, retention: number): void {
    upsertRecord(this.#sql, record);
    this.#wrote(1, retention);
  }

  /** Removes a record; true when there was one. */
  delete(id: string): boolean {
    return this.#sql.exec("DELETE FROM records WHERE id = ?", id).rowsWritten > 0;
  }

  /** Up to `limit + 1` records after `after`, newest first. */
  page(query: ListQuery, after?: Position): EventRecord[] {
    return pageRecords(this.#sql, query, after);
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

  #wrote(count: number, retention: number): void {
    const before = this.#writes;
    this.#writes += count;
    if (Math.floor(before / SWEEP_EVERY) !== Math.floor(this.#writes / SWEEP_EVERY)) {
      sweep(this.#sql, Date.now(), retention, BODY_RETENTION);
    }
  }
}
