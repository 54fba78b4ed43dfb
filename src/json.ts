import { EdgebusError } from "./errors.ts";

/** Any value that survives a round trip through JSON. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The deepest nesting of arrays and objects a body may have. */
export const MAX_DEPTH = 256;

/** The largest envelope (event, body and metadata, as JSON) in bytes: 256 KiB, exclusive. */
export const MAX_ENVELOPE_BYTES: number = 256 * 1024;

const encoder = new TextEncoder();

/** Where a value sits in the body: made only for containers, and read only on a failure. */
interface At {
  readonly up: At | undefined;
  readonly key: string | number | undefined;
}

function pathOf(at: At | undefined, key: string | number | undefined): string {
  let path = key === undefined ? "" : typeof key === "number" ? `[${key}]` : `.${key}`;
  for (let a = at; a && a.key !== undefined; a = a.up) {
    path = (typeof a.key === "number" ? `[${a.key}]` : `.${a.key}`) + path;
  }
  return path;
}

function fail(name: string, at: At | undefined, key: string | number | undefined, why: string): never {
  throw new EdgebusError("not_serializable", `Cannot publish "${name}": the body${pathOf(at, key)} ${why}`);
}

/** Checks `value`, found under `key` in the container at `at` (both undefined for the body itself). */
function check(
  name: string,
  value: unknown,
  at: At | undefined,
  key: string | number | undefined,
  seen: Set<object>,
): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) fail(name, at, key, `is ${value}, which JSON cannot hold`);
      return;
    case "undefined":
      if (typeof key === "number") fail(name, at, key, "is undefined, which JSON turns into null");
      return; // the whole body (sent as null) or a property, which JSON leaves out as users expect
    case "bigint":
    case "function":
    case "symbol":
      fail(name, at, key, `is a ${typeof value}, which JSON cannot hold`);
  }
  if (value === null) return;
  if (seen.size >= MAX_DEPTH) fail(name, at, key, `nests deeper than ${MAX_DEPTH} levels`);
  const object = value as object;
  if (typeof (object as { toJSON?: unknown }).toJSON === "function") return; // Date and friends
  if (seen.has(object)) fail(name, at, key, "refers to itself (a cycle)");
  seen.add(object);
  const here: At = { up: at, key };
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) check(name, object[i], here, i, seen);
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      fail(name, at, key, `is a ${object.constructor?.name ?? "class instance"}, not a plain object`);
    }
    const record = object as Record<string, unknown>;
    for (const k in record) {
      if (Object.prototype.hasOwnProperty.call(record, k)) check(name, record[k], here, k, seen);
    }
  }
  seen.delete(object);
}

/**
 * Refuses a body that JSON cannot carry faithfully: functions, symbols, BigInts, cycles,
 * NaN and Infinity, class instances (other than those with `toJSON`, such as `Date`), and
 * nesting deeper than {@linkcode MAX_DEPTH} levels.
 *
 * @param name the event name, for the message
 * @param body the body to check
 * @throws {EdgebusError} code `not_serializable`
 *
 * @example
 * ```ts
 * import { assertJson } from "@edgebus/edgebus/driver";
 * assertJson("user.joined", { id: 1, tags: ["a"] }); // fine
 * ```
 */
export function assertJson(name: string, body: unknown): void {
  check(name, body, undefined, undefined, new Set());
}

/**
 * The UTF-8 length of a string, counted only when it could be near `limit`.
 *
 * @param text the string
 * @param limit the size that matters
 * @returns the byte length, or a number below `limit` when it is surely below
 */
export function byteLength(text: string, limit: number = MAX_ENVELOPE_BYTES): number {
  if (text.length * 3 < limit) return text.length;
  return encoder.encode(text).length;
}
