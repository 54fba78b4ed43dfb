import type { EventRecord, Page } from "./driver.ts";

/**
 * A record with its body cut to `limit` characters of JSON text, for listings: a body whose JSON
 * is longer is replaced by its first `limit` characters (`null` when `limit` is 0) and the
 * record says how long the whole body was in `bodyCut`. Shorter bodies stay as they are.
 *
 * @param record the record
 * @param limit the most characters of body JSON to keep, or `undefined` to keep the body whole
 * @returns the record, cut or as it was
 *
 * @example
 * ```ts
 * import { cutBody } from "@edgebus/edgebus/driver";
 * const record = { id: "a", body: { text: "x".repeat(100) } } as never;
 * console.log(cutBody(record, 0).bodyCut); // 115
 * ```
 */
export function cutBody(record: EventRecord, limit: number | undefined): EventRecord {
  if (limit === undefined || record.bodyCut !== undefined) return record;
  const text = JSON.stringify(record.body) ?? "null";
  if (text.length <= limit) return record;
  return { ...record, body: limit === 0 ? null : text.slice(0, limit), bodyCut: text.length };
}

/**
 * Every record of a page with its body cut (see {@linkcode cutBody}).
 *
 * @param page the page
 * @param limit the most characters of body JSON to keep, or `undefined`
 * @returns the page with cut bodies
 */
export function cutPage(page: Page<EventRecord>, limit: number | undefined): Page<EventRecord> {
  return limit === undefined ? page : { ...page, items: page.items.map((r) => cutBody(r, limit)) };
}
