import type { EventRecord, Page } from "./driver.ts";
import { EdgebusError } from "./errors.ts";

/** How many records a page holds when the query gives no `limit`. */
export const DEFAULT_LIST_LIMIT = 50;

/** Where a page of records ends: the last record's publish time and id. */
export type ListPosition = readonly [time: number, id: string];

/**
 * The `cursor` a record store returns after a page: opaque to callers, read back by
 * {@linkcode decodeCursor}. Shared by every driver so cursors look the same everywhere.
 *
 * @param record the last record of the page
 * @returns the cursor
 *
 * @example
 * ```ts
 * import { decodeCursor, encodeCursor } from "@edgebus/edgebus/driver";
 * const cursor = encodeCursor({ time: 1_700_000_000_000, id: "01HX" } as never);
 * console.log(decodeCursor(cursor)); // [ 1700000000000, "01HX" ]
 * ```
 */
export function encodeCursor(record: Pick<EventRecord, "time" | "id">): string {
  return `${record.time}~${record.id}`;
}

/**
 * Reads a cursor made by {@linkcode encodeCursor}.
 *
 * @param cursor what the caller passed back
 * @returns the position the next page starts after
 * @throws {EdgebusError} code `invalid_option` when the cursor was not made by a store
 */
export function decodeCursor(cursor: string): ListPosition {
  const at = cursor.indexOf("~");
  const time = Number(cursor.slice(0, at));
  if (at < 1 || !Number.isInteger(time)) {
    throw new EdgebusError(
      "invalid_option",
      `Invalid cursor ${JSON.stringify(cursor)}: pass the cursor of the previous page unchanged`,
    );
  }
  return [time, cursor.slice(at + 1)];
}

/**
 * The order of `list()`: newest first, by publish time, then by the larger id.
 *
 * @param a one record
 * @param b another
 * @returns a negative number when `a` comes first
 */
export function newerFirst(a: Pick<EventRecord, "time" | "id">, b: Pick<EventRecord, "time" | "id">): number {
  return b.time - a.time || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * The page of the first `limit` records of `found` (already filtered and in list order, with
 * one more than `limit` when there is a next page), with the cursor of the next page.
 *
 * @param found up to `limit + 1` records, newest first
 * @param limit the page size
 * @returns the page
 *
 * @example
 * ```ts
 * import { pageOf } from "@edgebus/edgebus/driver";
 * const page = pageOf([{ time: 2, id: "b" }, { time: 1, id: "a" }] as never[], 1);
 * console.log(page.cursor); // "2~b"
 * ```
 */
export function pageOf<T extends Pick<EventRecord, "time" | "id">>(found: readonly T[], limit: number): Page<T> {
  const items = found.slice(0, limit);
  return found.length > limit ? { items, cursor: encodeCursor(items[items.length - 1]) } : { items };
}
