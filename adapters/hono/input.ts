import type { Context } from "hono";
import { EdgebusError, type ListQuery, type PublishItem } from "../../mod.ts";
import { HttpError } from "./http_error.ts";

/** The most events one batch publish may hold. */
export const MAX_BATCH = 100;

/** The origin of an event published over HTTP that names none of its own. */
export const HTTP_ORIGIN = "http";

const NO_VALUES: readonly string[] = [];

/**
 * One option given as a query parameter or a header (at most once, and the same in both). An
 * empty value counts as absent, as it does for every parameter of the router.
 *
 * @param c the request context
 * @param query the query parameter's name
 * @param header the header's name
 * @returns the value, or `undefined` when neither is given
 * @throws {EdgebusError} code `invalid_option` when repeated or when the two disagree
 *
 * @example
 * ```ts ignore
 * const id = queryOrHeader(c, "id", "Idempotency-Key");
 * ```
 */
export function queryOrHeader(c: Context, query: string, header: string): string | undefined {
  // Most requests carry no query at all: then nothing is parsed.
  const values = c.req.url.includes("?") ? (c.req.queries(query) ?? []).filter((v) => v !== "") : NO_VALUES;
  if (values.length > 1) {
    throw new EdgebusError("invalid_option", `Give ?${query}= at most once (got ${values.length})`);
  }
  const fromHeader = c.req.header(header) || undefined;
  if (values.length === 1 && fromHeader !== undefined && values[0] !== fromHeader) {
    throw new EdgebusError(
      "invalid_option",
      `?${query}=${JSON.stringify(values[0])} disagrees with ${header}: ${JSON.stringify(fromHeader)}`,
    );
  }
  return values[0] ?? fromHeader;
}

/**
 * Reads `after` as it comes over HTTP: digits are a number (ms, or an epoch in ms), anything
 * else is passed on as text (`"1 day"`, an ISO date).
 *
 * @param value the text
 * @returns what `publish` takes as `after`
 *
 * @example
 * ```ts
 * import { httpAfter } from "./input.ts";
 * console.log(httpAfter("5000"), httpAfter("1 day")); // 5000 "1 day"
 * ```
 */
export function httpAfter(value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  return /^\d{1,16}$/.test(value.trim()) ? Number(value) : value;
}

/**
 * The query of `GET /events` and `GET /dead-letters`; empty parameters count as absent.
 *
 * @param c the request context
 * @returns the list query
 * @throws {EdgebusError} code `invalid_option` when `limit` or `bodyLimit` is not a whole number
 *
 * @example
 * ```ts ignore
 * const page = await bus.list(listQuery(c));
 * ```
 */
export function listQuery(c: Context): ListQuery {
  const read = (key: string): string | undefined => {
    const value = c.req.query(key);
    return value === undefined || value === "" ? undefined : value;
  };
  const number = (key: string, range: string): number | undefined => {
    const value = read(key);
    if (value !== undefined && !/^\d{1,7}$/.test(value)) {
      throw new EdgebusError(
        "invalid_option",
        `Invalid ${key} ${JSON.stringify(value)}: expected a whole number ${range}`,
      );
    }
    return value === undefined ? undefined : Number(value);
  };
  const query: Record<string, unknown> = {
    status: read("status"),
    name: read("name"),
    limit: number("limit", "from 1 to 1000"),
    cursor: read("cursor"),
    correlationId: read("correlationId"),
    bodyLimit: number("bodyLimit", "of characters from 0 to 1000000"),
  };
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)) as ListQuery;
}

const OPTIONAL_ITEM_KEYS = ["after", "id", "correlationId", "origin"];
const ITEM_KEYS = new Set(["name", "body", ...OPTIONAL_ITEM_KEYS]);
/** The item's shape, for messages: `name, body, after?, ...`. */
const ITEM_FIELDS = ["name", "body", ...OPTIONAL_ITEM_KEYS.map((key) => `${key}?`)].join(", ");

function batchItem(value: unknown, i: number): PublishItem {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, "invalid_batch", `events[${i}] is not an object of { ${ITEM_FIELDS} }`);
  }
  const item = value as Record<string, unknown>;
  const unknown = Object.keys(item).find((key) => !ITEM_KEYS.has(key));
  if (unknown !== undefined) {
    throw new HttpError(
      400,
      "invalid_batch",
      `events[${i}] has an unknown field ${JSON.stringify(unknown)} (expected ${ITEM_FIELDS})`,
    );
  }
  if (typeof item.name !== "string") throw new EdgebusError("invalid_name", `events[${i}].name must be a string`);
  if (item.id != null && typeof item.id !== "string") {
    throw new EdgebusError("invalid_id", `events[${i}].id must be a string`);
  }
  if (item.after != null && typeof item.after !== "string" && typeof item.after !== "number") {
    throw new EdgebusError("invalid_delay", `events[${i}].after must be a number of ms or a string`);
  }
  if (item.correlationId != null && typeof item.correlationId !== "string") {
    throw new EdgebusError("invalid_id", `events[${i}].correlationId must be a string`);
  }
  if (item.origin != null && typeof item.origin !== "string") {
    throw new EdgebusError("invalid_option", `events[${i}].origin must be a string`);
  }
  return {
    name: item.name,
    body: item.body,
    after: (item.after ?? undefined) as number | string | undefined,
    id: (item.id ?? undefined) as string | undefined,
    correlationId: (item.correlationId ?? undefined) as string | undefined,
    origin: (item.origin ?? HTTP_ORIGIN) as string,
  };
}

/**
 * Checks the body of a batch publish: an array of 1 to 100
 * `{ name, body, after?, id?, correlationId?, origin? }`, ids all different.
 *
 * @param body the parsed JSON body
 * @returns the items; those without an origin are marked as coming from HTTP
 * @throws {HttpError} 400 `invalid_batch` (also for an id given twice); {EdgebusError} for a
 * mistyped name, id, after, correlation id or origin
 *
 * @example
 * ```ts
 * import { batchItems } from "./input.ts";
 * console.log(batchItems([{ name: "a.b", body: 1 }]).length); // 1
 * ```
 */
export function batchItems(body: unknown): PublishItem[] {
  if (!Array.isArray(body)) {
    throw new HttpError(400, "invalid_batch", `Expected a JSON array of { ${ITEM_FIELDS} }`);
  }
  if (body.length === 0 || body.length > MAX_BATCH) {
    throw new HttpError(400, "invalid_batch", `A batch holds 1 to ${MAX_BATCH} events (got ${body.length})`);
  }
  const items = body.map(batchItem);
  // A repeated id would be stored once and answered twice: refuse the batch instead.
  const firstWith = new Map<string, number>();
  items.forEach((item, i) => {
    if (item.id === undefined) return;
    const first = firstWith.get(item.id);
    if (first !== undefined) {
      throw new HttpError(
        400,
        "invalid_batch",
        `events[${i}].id ${JSON.stringify(item.id)} repeats events[${first}].id: give each event of a batch its own id`,
      );
    }
    firstWith.set(item.id, i);
  });
  return items;
}
