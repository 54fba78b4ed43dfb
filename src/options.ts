import { EdgebusError } from "./errors.ts";

/**
 * Checks a numeric option: a whole number from `min` to `max`.
 *
 * @param name the option, for the message
 * @param value the value seen
 * @param min the least allowed @default {1}
 * @param max the most allowed @default {Number.MAX_SAFE_INTEGER}
 * @returns the value
 * @throws {EdgebusError} code `invalid_option`, naming the option, the value and the range
 *
 * @example
 * ```ts
 * import { wholeNumber } from "@edgebus/edgebus/driver";
 * wholeNumber("concurrency", 8); // 8
 * ```
 */
export function wholeNumber(name: string, value: number, min = 1, max: number = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new EdgebusError("invalid_option", `Invalid ${name} ${String(value)}: expected a whole number ${range}`);
  }
  return value;
}
