import {
  compilePattern,
  cutBody,
  DEFAULT_LIST_LIMIT,
  type EventRecord,
  type EventStatus,
  type ListPosition,
  type ListQuery,
  type StatusCounts,
} from "../../driver/mod.ts";
import type { SqlStorageLike } from "./platform.ts";

/** Where a page starts: after this publish time and id, newest first (the core's cursor position). */
export type Position = ListPosition;

const SCAN = 256;

/**
 * Writes a record over any with the same id.
 *
 * @param sql the shard's storage
 * @param record the record
 */
export function upsertRecord(sql: SqlStorageLike, record: EventRecord): void {
  sql.exec(
    `INSERT INTO records (id, time, name, status, updated, due, correlation, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET time = excluded.time, name = excluded.name, status = excluded.status,
       updated = excluded.updated, due = excluded.due, correlation = excluded.correlation, data = excluded.data`,
    record.id,
    record.time,
    record.name,
    record.status,
    record.updatedAt,
    record.due,
    record.correlationId,
    JSON.stringify(record),
  );
}

/**
 * Reads one record.
 *
 * @param sql the shard's storage
 * @param id the event id
 * @returns the record, or undefined
 */
export function readRecord(sql: SqlStorageLike, id: string): EventRecord | undefined {
  const [row] = sql.exec("SELECT data FROM records WHERE id = ?", id).toArray();
  return row ? JSON.parse(row.data as string) as EventRecord : undefined;
}

/**
 * Inserts each record unless one with its id was published at or after `dedupSince`.
 *
 * @param sql the shard's storage
 * @param records the records
 * @param dedupSince the start of the dedup window, epoch ms
 * @returns per record, true when inserted
 */
export function createRecords(sql: SqlStorageLike, records: readonly EventRecord[], dedupSince: number): boolean[] {
  return records.map((record) => {
    const [row] = sql.exec("SELECT time FROM records WHERE id = ?", record.id).toArray();
    if (row && (row.time as number) >= dedupSince) return false;
    upsertRecord(sql, record);
    return true;
  });
}

/**
 * Up to `limit + 1` records of a shard, newest first, after `after`, filtered; one more than
 * asked for tells the caller that there is a next page.
 *
 * @param sql the shard's storage
 * @param query the filters and the limit
 * @param after where the page starts
 * @returns the records
 */
export function pageRecords(sql: SqlStorageLike, query: ListQuery, after?: Position): EventRecord[] {
  const { status, name, limit = DEFAULT_LIST_LIMIT, correlationId, bodyLimit } = query;
  const exact = name !== undefined && !name.includes("*") && !name.includes(">");
  const matches = name === undefined || exact ? undefined : compilePattern(name);
  const where: string[] = [];
  const values: unknown[] = [];
  if (status !== undefined) where.push("status = ?"), values.push(status);
  if (exact) where.push("name = ?"), values.push(name);
  if (correlationId !== undefined) where.push("correlation = ?"), values.push(correlationId);
  if (after) where.push("(time < ? OR (time = ? AND id < ?))"), values.push(after[0], after[0], after[1]);
  const clause = where.length ? `WHERE ${where.join(" AND ")}` : "";
  const found: EventRecord[] = [];
  for (let offset = 0; found.length <= limit; offset += SCAN) {
    const rows = sql.exec(
      `SELECT name, data FROM records ${clause} ORDER BY time DESC, id DESC LIMIT ? OFFSET ?`,
      ...values,
      matches ? SCAN : limit + 1,
      offset,
    ).toArray();
    for (const row of rows) {
      if (!matches || matches(row.name as string)) {
        found.push(cutBody(JSON.parse(row.data as string) as EventRecord, bodyLimit));
      }
    }
    if (!matches || rows.length < SCAN) break;
  }
  return found.slice(0, limit + 1);
}

/**
 * How many records of each status a shard holds.
 *
 * @param sql the shard's storage
 * @returns the counts, by status
 */
export function countRecords(sql: SqlStorageLike): StatusCounts {
  const counts: StatusCounts = {};
  for (const row of sql.exec("SELECT status, count(*) AS n FROM records GROUP BY status").toArray()) {
    counts[row.status as EventStatus] = row.n as number;
  }
  return counts;
}

/**
 * Forgets finished records (done, cancelled) not changed for `retention` ms, and large bodies
 * older than `bodyRetention`; dead letters stay until deleted.
 *
 * @param sql the shard's storage
 * @param now the current time
 * @param retention how long finished records are kept
 * @param bodyRetention how long a stored body is kept at most
 */
export function sweep(sql: SqlStorageLike, now: number, retention: number, bodyRetention: number): void {
  sql.exec("DELETE FROM records WHERE status IN ('done', 'cancelled') AND updated < ?", now - retention);
  sql.exec("DELETE FROM bodies WHERE created < ?", now - bodyRetention);
}
