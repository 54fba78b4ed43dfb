import { compileCron } from "./cron.ts";
import { EdgebusError } from "./errors.ts";
import type { Json } from "./json.ts";

/** What becomes of ticks missed while no process could publish them (more than {@linkcode MISSED_AFTER} late). */
export type CatchUp = "all" | "latest" | "none";
/** Whether a tick is published while the previous tick's event is still running or retrying. */
export type Overlap = "allow" | "skip";

/** Options of `bus.schedule`. */
export interface ScheduleOptions {
  /** The IANA time zone the expression is read in, daylight saving included. @default {"UTC"} */
  readonly tz?: string;
  /**
   * Ticks found more than {@linkcode MISSED_AFTER} ms after their time (every process was down,
   * or the schedule's process slept): `all` publishes each of them (at most
   * {@linkcode MAX_CATCH_UP}, the latest), `latest` only the latest, `none` none of them.
   * @default {"latest"}
   */
  readonly catchUp?: CatchUp;
  /** `skip` leaves a tick out while the previous tick's event is pending or retrying. @default {"allow"} */
  readonly overlap?: Overlap;
}

/** A schedule as a driver stores it and `bus.schedules` answers it. */
export interface Schedule {
  /** The schedule's id, chosen by the application. */
  readonly id: string;
  /** The cron expression: five fields, or six with seconds first. */
  readonly cron: string;
  /** The name of the event each tick publishes. */
  readonly name: string;
  /** The body of each tick's event. */
  readonly body: Json;
  /** The IANA time zone the expression is read in. */
  readonly tz: string;
  /** What becomes of missed ticks. */
  readonly catchUp: CatchUp;
  /** Whether a tick may overlap the previous tick's event. */
  readonly overlap: Overlap;
  /** True while paused: no tick is published, and none is caught up on resume. */
  readonly paused: boolean;
  /** Only ticks after this time are the schedule's (when it was declared, replaced or resumed), epoch ms. */
  readonly since: number;
  /** When it last changed, epoch ms. */
  readonly updatedAt: number;
}

/** A schedule as `bus.schedules` answers it: with its next tick. */
export interface ScheduleInfo extends Schedule {
  /** The next tick, epoch ms; absent while paused. */
  readonly next?: number;
}

/** Which schedules to list: by id, in order. */
export interface ScheduleQuery {
  /** At most this many (1 to 1000). @default {50} */
  readonly limit?: number;
  /** Where the previous page ended. */
  readonly cursor?: string;
}

/** Ticks found later than this after their time count as missed, ms (see {@linkcode CatchUp}). */
export const MISSED_AFTER = 3_000;
/** `catchUp: "all"` publishes at most this many missed ticks of one schedule, the latest. */
export const MAX_CATCH_UP = 1_000;
/** The longest schedule id: a tick's event id adds `:` and 16 characters of time. */
export const MAX_SCHEDULE_ID = 200;

const SCHEDULE_ID = /^[A-Za-z0-9_.:-]+$/;

/**
 * Checks a schedule id: 1 to 200 characters of `[A-Za-z0-9_.:-]`.
 *
 * @param id the id
 * @returns the id
 * @throws {EdgebusError} code `invalid_schedule`
 *
 * @example
 * ```ts
 * import { assertScheduleId } from "@edgebus/edgebus/driver";
 * console.log(assertScheduleId("weekly-report")); // weekly-report
 * ```
 */
export function assertScheduleId(id: unknown): string {
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_SCHEDULE_ID || !SCHEDULE_ID.test(id)) {
    throw new EdgebusError(
      "invalid_schedule",
      `Invalid schedule id ${
        JSON.stringify(id) ?? String(id)
      }: use 1 to ${MAX_SCHEDULE_ID} characters of letters, digits and _ . : -`,
    );
  }
  return id;
}

/**
 * The event id of a schedule's tick: `<scheduleId>:<UTC time as YYYYMMDDTHHMMSSZ>`, the same in
 * every process, so that the bus's deduplication publishes each tick once.
 *
 * @param scheduleId the schedule's id
 * @param time the tick's time, epoch ms
 * @returns the event id
 *
 * @example
 * ```ts
 * import { tickId } from "@edgebus/edgebus/driver";
 * console.log(tickId("weekly-report", Date.UTC(2026, 2, 30, 7))); // weekly-report:20260330T070000Z
 * ```
 */
export function tickId(scheduleId: string, time: number): string {
  return `${scheduleId}:${new Date(time).toISOString().replace(/[-:]|\.\d{3}/g, "")}`;
}

function oneOf<T extends string>(what: string, value: unknown, allowed: readonly T[]): T {
  if (allowed.includes(value as T)) return value as T;
  throw new EdgebusError(
    "invalid_schedule",
    `Invalid ${what} ${JSON.stringify(value) ?? String(value)}: expected ${allowed.map((a) => `"${a}"`).join(", ")}`,
  );
}

/**
 * Checks what `bus.schedule` was given (id, expression, zone, policies) and makes the schedule;
 * the name and body are checked by the bus, as for a publish.
 *
 * @param id the schedule id
 * @param cron the cron expression
 * @param name the event name
 * @param body the body, after a JSON round trip
 * @param options zone and policies
 * @param now the time of the declaration
 * @returns the schedule, not paused, its ticks counted from `now`
 * @throws {EdgebusError} code `invalid_schedule`, naming the value
 *
 * @example
 * ```ts
 * import { makeSchedule } from "@edgebus/edgebus/driver";
 * const schedule = makeSchedule("nightly", "0 2 * * *", "backup.run", null, { tz: "Asia/Tokyo" }, Date.now());
 * console.log(schedule.catchUp, schedule.paused); // latest false
 * ```
 */
export function makeSchedule(
  id: unknown,
  cron: unknown,
  name: string,
  body: Json,
  options: ScheduleOptions,
  now: number,
): Schedule {
  if (typeof options !== "object" || options === null) {
    throw new EdgebusError("invalid_schedule", `Invalid schedule options ${String(options)}: expected an object`);
  }
  const { tz = "UTC", catchUp = "latest", overlap = "allow" } = options;
  assertScheduleId(id);
  compileCron(cron, tz);
  return {
    id: id as string,
    cron: (cron as string).trim(),
    name,
    body,
    tz,
    catchUp: oneOf("catchUp", catchUp, ["all", "latest", "none"]),
    overlap: oneOf("overlap", overlap, ["allow", "skip"]),
    paused: false,
    since: now,
    updatedAt: now,
  };
}

/**
 * Whether two schedules declare the same thing (expression, zone, event, body, policies):
 * declaring a stored schedule again with the same spec changes nothing.
 *
 * @param a one schedule
 * @param b another
 * @returns true when their specs are equal
 *
 * @example
 * ```ts
 * import { makeSchedule, sameSpec } from "@edgebus/edgebus/driver";
 * const a = makeSchedule("s", "0 * * * *", "tick", null, {}, 1);
 * console.log(sameSpec(a, { ...a, since: 2, paused: true })); // true
 * ```
 */
export function sameSpec(a: Schedule, b: Schedule): boolean {
  return a.id === b.id && a.cron === b.cron && a.tz === b.tz && a.name === b.name && a.catchUp === b.catchUp &&
    a.overlap === b.overlap && JSON.stringify(a.body) === JSON.stringify(b.body);
}

/**
 * The schedule that replaces `stored` when a different spec is declared with its id: the new
 * spec, its ticks counted from the new declaration, paused if the stored one was (a pause is
 * an operator's decision that a deploy should not undo).
 *
 * @param stored what is stored
 * @param declared what was declared
 * @returns the replacement
 *
 * @example
 * ```ts
 * import { makeSchedule, replaceSchedule } from "@edgebus/edgebus/driver";
 * const stored = { ...makeSchedule("s", "0 * * * *", "tick", null, {}, 1), paused: true };
 * console.log(replaceSchedule(stored, makeSchedule("s", "30 * * * *", "tick", null, {}, 2)).paused); // true
 * ```
 */
export function replaceSchedule(stored: Schedule, declared: Schedule): Schedule {
  return { ...declared, paused: stored.paused };
}
