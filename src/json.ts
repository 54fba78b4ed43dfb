import { EdgebusError } from "./errors.ts";

/** Any value that survives a round trip through JSON. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The deepest nesting of arrays and objects a body may have. */
export const MAX_DEPTH = 256;

/** The largest envelope (event, body and metadata, as JSON) in bytes: 256 KiB, exclusive. */
export const MAX_ENVELOPE_BYTES: number = 256 * 1024;

const encoder = new TextEncoder();

function fail(name: string, path: string, why: string): never {
  throw new EdgebusError("not_serializable", `Cannot publish "${name}": the body${path} ${why}`);
}

function check(name: string, value: unknown, path: string, seen: Set<object>): void {
  if (seen.size > MAX_DEPTH) fail(name, path, `nests deeper than ${MAX_DEPTH} levels`);
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) fail(name, path, `is ${value}, which JSON cannot hold`);
      return;
    case "undefined":
      if (path === "") return;
      if (path.endsWith("]")) fail(name, path, "is undefined, which JSON turns into null");
      return; // an undefined property is left out by JSON, as users expect
    case "bigint":
    case "function":
    case "symbol":
      fail(name, path, `is a ${typeof value}, which JSON cannot hold`);
  }
  if (value === null) return;
  const object = value as object;
  if (typeof (object as { toJSON?: unknown }).toJSON === "function") return; // Date and friends
  if (seen.has(object)) fail(name, path, "refers to itself (a cycle)");
  seen.add(object);
  if (Array.isArray(object)) {
    object.forEach((item, i) => check(name, item, `${path}[${i}]`, seen));
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      fail(name, path, `is a ${object.constructor?.name ?? "class instance"}, not a plain object`);
    }
    for (const [key, item] of Object.entries(object)) check(name, item, `${path}.${key}`, seen);
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
  check(name, body, "", new Set());
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
