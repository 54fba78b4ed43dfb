import type { EventRecord, ListQuery, Page, RecordStore, StatusCounts } from "../driver.ts";
import { cutPage } from "../body_cut.ts";
import { compilePattern } from "../patterns.ts";
import { EdgebusError } from "../errors.ts";
import { decodeCursor, DEFAULT_LIST_LIMIT, newerFirst, pageOf } from "../cursor.ts";

/** Options of {@linkcode memoryStore}. */
export interface MemoryStoreOptions {
  /** Finished records (done, cancelled) older than this are forgotten, ms; dead letters stay.
   * @default {86400000} (1 day) */
  readonly retention?: number;
  /**
   * At most this many finished records (done, cancelled) are kept: past it the oldest to finish
   * are forgotten first. An id is deduplicated while its record is kept, so this also bounds the
   * dedup window. Dead letters and unfinished events are never forgotten for it.
   * @default {10000}
   */
  readonly maxFinished?: number;
  /** The clock. @default {Date.now} */
  readonly now?: () => number;
}

/** Whether a record is finished and may be forgotten (done, cancelled; dead letters stay). */
const forgettable = (record: EventRecord): boolean => record.status === "done" || record.status === "cancelled";
const SWEEP_EVERY = 1024;

/**
 * Records in a `Map`, for the memory driver and for tests. Nothing is kept across a restart.
 *
 * @param options how long finished records are kept, and the clock
 * @returns a record store
 */
export function memoryStore(options: MemoryStoreOptions = {}): RecordStore {
  return memoryRecords(options).store;
}

/** A memory store, and its `create` answering at once, for the memory driver's publish. */
export interface MemoryRecords {
  readonly store: RecordStore;
  /** `store.create`, answered at once. */
  createNow(batch: readonly EventRecord[], dedupSince: number): boolean[];
}

/**
 * {@linkcode memoryStore} with its `create` answering at once.
 *
 * @param options how long finished records are kept, and the clock
 * @returns the store, and its `create` answering at once
 */
export function memoryRecords(options: MemoryStoreOptions = {}): MemoryRecords {
  const { retention = 86_400_000, maxFinished = 10_000, now = Date.now } = options;
  if (!(Number.isInteger(maxFinished) && maxFinished >= 0)) {
    throw new EdgebusError("invalid_option", `Invalid maxFinished ${maxFinished}: expected a whole number >= 0`);
  }
  const records = new Map<string, EventRecord>();
  // Ids in the order their records finished, oldest first (from `head`), and how many kept
  // records are finished. An id whose record was since forgotten is skipped when reached.
  let finishedIds: string[] = [];
  let head = 0;
  let finished = 0;
  // Ids by correlation id, so that a chain is found without a scan: only events whose correlation
  // id is not their own (a root is found by its id), so that most events cost no index entry.
  // Entries whose record is gone or was replaced are skipped when read.
  const chains = new Map<string, Set<string>>();
  let writes = 0;

  const keep = (record: EventRecord, previous: EventRecord | undefined): void => {
    records.set(record.id, record);
    if (previous === undefined && record.correlationId !== record.id) {
      let ids = chains.get(record.correlationId);
      if (!ids) chains.set(record.correlationId, ids = new Set());
      ids.add(record.id);
    }
    const was = previous !== undefined && forgettable(previous);
    if (forgettable(record) === was) return;
    if (was) finished--;
    else {
      finished++;
      finishedIds.push(record.id);
      if (finished > maxFinished) forgetOldest();
      else if (finishedIds.length - head > 2 * finished + 1024) dropForgotten();
    }
  };
  const forget = (id: string): boolean => {
    const record = records.get(id);
    if (!record) return false;
    drop(record);
    return true;
  };
  const drop = (record: EventRecord): void => {
    records.delete(record.id);
    if (forgettable(record)) finished--;
    if (record.correlationId === record.id) return;
    const ids = chains.get(record.correlationId);
    ids?.delete(record.id);
    if (ids?.size === 0) chains.delete(record.correlationId);
  };
  // Memory stays bounded under a steady stream of events: a day of records at a few thousand a
  // second would not fit, and a large heap slows every publish (measured in the README).
  const forgetOldest = (): void => {
    while (finished > maxFinished && head < finishedIds.length) {
      const record = records.get(finishedIds[head++]);
      if (record && forgettable(record)) drop(record);
    }
    if (head > 1024 && head * 2 > finishedIds.length) {
      finishedIds = finishedIds.slice(head);
      head = 0;
    }
  };
  // Records forgotten otherwise (retention, a re-publish) leave their ids behind in the list:
  // dropped once they outnumber the finished records kept.
  const dropForgotten = (): void => {
    finishedIds = finishedIds.slice(head).filter((id) => {
      const record = records.get(id);
      return record !== undefined && forgettable(record);
    });
    head = 0;
  };
  const candidates = (correlationId: string | undefined): Iterable<EventRecord> => {
    if (correlationId === undefined) return records.values();
    const ids = [correlationId, ...chains.get(correlationId) ?? []];
    return ids.map((id) => records.get(id)).filter((r): r is EventRecord => r?.correlationId === correlationId);
  };

  // Records sit in the map in publish order (a re-published id moves to the end), so the sweep
  // walks from the oldest and stops at the first record inside the retention period.
  const sweep = (): void => {
    if (++writes % SWEEP_EVERY !== 0) return;
    const oldest = now() - retention;
    for (const [id, record] of records) {
      if (record.time >= oldest) break;
      if (forgettable(record) && record.updatedAt < oldest) forget(id);
    }
  };

  const createNow = (batch: readonly EventRecord[], dedupSince: number): boolean[] => {
    const answers = batch.map((record) => {
      const existing = records.get(record.id);
      if (existing) {
        if (existing.time >= dedupSince) return false;
        forget(record.id);
      }
      keep(record, undefined);
      return true;
    });
    sweep();
    return answers;
  };

  const store: RecordStore = {
    get: (id) => Promise.resolve(records.get(id)),
    create: (batch, dedupSince) => Promise.resolve(createNow(batch, dedupSince)),
    put(record) {
      keep(record, records.get(record.id));
      return Promise.resolve();
    },
    delete: (id) => Promise.resolve(forget(id)),
    count() {
      const counts: StatusCounts = {};
      for (const record of records.values()) counts[record.status] = (counts[record.status] ?? 0) + 1;
      return Promise.resolve(counts);
    },
    list(query: ListQuery): Promise<Page<EventRecord>> {
      const { status, name, limit = DEFAULT_LIST_LIMIT, cursor, correlationId } = query;
      const matches = name === undefined ? undefined : compilePattern(name);
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      const found: EventRecord[] = [];
      for (const record of candidates(correlationId)) {
        if (status !== undefined && record.status !== status) continue;
        if (matches && !matches(record.name)) continue;
        if (after && (record.time > after[0] || (record.time === after[0] && record.id >= after[1]))) continue;
        found.push(record);
      }
      found.sort(newerFirst);
      return Promise.resolve(cutPage(pageOf(found, limit), query.bodyLimit));
    },
  };
  return { store, createNow };
}
