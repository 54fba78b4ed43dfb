import { EdgebusError } from "./errors.ts";

/** When an event should be delivered: see {@linkcode parseAfter} for the forms. */
export type After = number | string | Date;

/** One year of milliseconds (365 days): numbers above it are read as epoch timestamps. */
export const ONE_YEAR_MS: number = 365 * 24 * 60 * 60 * 1000;

const UNIT_MS: Record<string, number> = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
};

const RELATIVE = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*$/i;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

function refuse(value: unknown, why: string): never {
  const shown = value instanceof Date ? (Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString()) : value;
  // Numbers as written (JSON would show NaN and Infinity as null); strings and dates quoted.
  const named = typeof shown === "number" ? String(shown) : JSON.stringify(shown) ?? String(value);
  throw new EdgebusError("invalid_delay", `Cannot schedule after ${named}: ${why}`);
}

/** The latest allowed due time: the same instant one calendar year after `now`, in UTC. */
export function latestDue(now: number): number {
  const date = new Date(now);
  date.setUTCFullYear(date.getUTCFullYear() + 1);
  return date.getTime();
}

function addCalendar(now: number, unit: "month" | "year", count: number): number {
  const date = new Date(now);
  const day = date.getUTCDate();
  if (unit === "year") date.setUTCFullYear(date.getUTCFullYear() + count);
  else date.setUTCMonth(date.getUTCMonth() + count);
  // Jan 31 + 1 month lands on the last day of February, not in March.
  if (date.getUTCDate() !== day) date.setUTCDate(0);
  return date.getTime();
}

function relative(value: string, now: number): number {
  const match = RELATIVE.exec(value);
  if (!match) refuse(value, 'expected "<n> <unit>", an ISO-8601 UTC date, a number or a Date');
  const count = Number(match[1]);
  const unit = match[2].toLowerCase();
  if (unit === "month" || unit === "year") {
    if (!Number.isInteger(count)) refuse(value, `${unit}s must be a whole number`);
    return addCalendar(now, unit, count);
  }
  const ms = UNIT_MS[unit];
  if (ms === undefined) {
    refuse(value, `unknown unit "${match[2]}" (use seconds, minutes, hours, days, weeks, months or years)`);
  }
  return now + Math.ceil(count * ms);
}

function absolute(value: unknown, at: number): number {
  if (!Number.isFinite(at)) refuse(value, "not a valid date");
  return Math.ceil(at);
}

/**
 * Turns an `after` value into the epoch time (ms) at which the event is due. A pure function:
 * `now` is passed in.
 *
 * Forms: a number of ms to wait (> 0, up to one year); a number larger than one year of ms,
 * read as an epoch timestamp in ms; an ISO-8601 string with `Z` or an offset; a `Date`; or
 * `"<n> <unit>"` with units second(s), minute(s), hour(s), day(s), week(s), month(s), year(s),
 * computed in UTC (months and years on the calendar). The result must lie after `now` and no
 * later than one calendar year after it.
 *
 * @param value the `after` option of a publish
 * @param now the current epoch time in ms
 * @returns the due time as epoch ms
 * @throws {EdgebusError} code `invalid_delay`: zero, negative, past, over a year, NaN, an
 * unknown unit or an unreadable string
 *
 * @example
 * ```ts
 * import { parseAfter } from "@edgebus/edgebus";
 * const now = Date.UTC(2026, 0, 31);
 * console.log(new Date(parseAfter("1 month", now)).toISOString()); // 2026-02-28T00:00:00.000Z
 * console.log(parseAfter(5_000, now) - now); // 5000
 * ```
 */
export function parseAfter(value: After, now: number): number {
  let due: number;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) refuse(value, "not a finite number");
    if (value <= 0) refuse(value, "the delay must be greater than zero");
    due = value > ONE_YEAR_MS ? Math.ceil(value) : now + Math.ceil(value);
  } else if (value instanceof Date) {
    due = absolute(value, value.getTime());
  } else if (typeof value === "string") {
    if (ISO_UTC.test(value.trim())) due = absolute(value, Date.parse(value.trim()));
    else due = relative(value, now);
  } else {
    refuse(value, `expected a number, a string or a Date, got ${typeof value}`);
  }
  if (due <= now) refuse(value, "the time is not in the future");
  if (due > latestDue(now)) refuse(value, "more than one year ahead");
  return due;
}
