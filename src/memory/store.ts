import type { EventRecord, ListQuery, Page, RecordStore } from "../driver.ts";
import { compilePattern } from "../patterns.ts";
import { decodeCursor, DEFAULT_LIST_LIMIT, newerFirst, pageOf } from "../cursor.ts";

/** Options of {@linkcode memoryStore}. */
export interface MemoryStoreOptions {
  /** Finished records (done, cancelled) older than this are forgotten, ms; dead letters stay.
   * @default {86400000} (1 day) */
  readonly retention?: number;
  /** The clock. @default {Date.now} */
  readonly now?: () => number;
}

const FORGETTABLE = new Set(["done", "cancelled"]);
const SWEEP_EVERY = 1024;

/**
 * Records in a `Map`, for the memory driver and for tests. Nothing is kept across a restart.
 *
 * @param options how long finished records are kept, and the clock
 * @returns a record store
 */
export function memoryStore(options: MemoryStoreOptions = {}): RecordStore {
  const { retention = 86_400_000, now = Date.now } = options;
  const records = new Map<string, EventRecord>();
  let writes = 0;

  // Records sit in the map in publish order (a re-published id moves to the end), so the sweep
  // walks from the oldest and stops at the first record inside the retention period.
  const sweep = (): void => {
    if (++writes % SWEEP_EVERY !== 0) return;
    const oldest = now() - retention;
    for (const [id, record] of records) {
      if (record.time >= oldest) break;
      if (FORGETTABLE.has(record.status) && record.updatedAt < oldest) records.delete(id);
    }
  };

  return {
    get: (id) => Promise.resolve(records.get(id)),
    create(batch, dedupSince) {
      const answers = batch.map((record) => {
        const existing = records.get(record.id);
        if (existing && existing.time >= dedupSince) return false;
        records.delete(record.id);
        records.set(record.id, record);
        return true;
      });
      sweep();
      return Promise.resolve(answers);
    },
    put(record) {
      records.set(record.id, record);
      return Promise.resolve();
    },
    delete: (id) => Promise.resolve(records.delete(id)),
    list(query: ListQuery): Promise<Page<EventRecord>> {
      const { status, name, limit = DEFAULT_LIST_LIMIT, cursor } = query;
      const matches = name === undefined ? undefined : compilePattern(name);
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      const found: EventRecord[] = [];
      for (const record of records.values()) {
        if (status !== undefined && record.status !== status) continue;
        if (matches && !matches(record.name)) continue;
        if (after && (record.time > after[0] || (record.time === after[0] && record.id >= after[1]))) continue;
        found.push(record);
      }
      found.sort(newerFirst);
      return Promise.resolve(pageOf(found, limit));
    },
  };
}
