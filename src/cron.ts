import { Cron } from "croner";
import { EdgebusError } from "./errors.ts";

/** A cron expression read in a time zone: when it fires next, and before. */
export interface CronTimes {
  /** The first tick strictly after `after` (epoch ms), or `undefined` when there is none. */
  next(after: number): number | undefined;
  /** The last tick strictly before `before` (epoch ms), or `undefined` when there is none. */
  previous(before: number): number | undefined;
}

/**
 * Checks an IANA time zone name (`Europe/Paris`, `UTC`) against the runtime's time zone data.
 *
 * @param tz the zone
 * @returns the zone
 * @throws {EdgebusError} code `invalid_schedule`, naming the zone
 *
 * @example
 * ```ts
 * import { assertTimeZone } from "@edgebus/edgebus/driver";
 * console.log(assertTimeZone("Europe/Paris")); // Europe/Paris
 * ```
 */
export function assertTimeZone(tz: unknown): string {
  if (typeof tz === "string" && tz.length > 0 && tz.length <= 64) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
      return tz;
    } catch {
      // falls through to the error below
    }
  }
  throw new EdgebusError(
    "invalid_schedule",
    `Invalid time zone ${JSON.stringify(tz) ?? String(tz)}: expected an IANA zone name such as "Europe/Paris" or "UTC"`,
  );
}

/**
 * Reads a cron expression with five fields (minute hour day-of-month month day-of-week) or six
 * (seconds first), in a time zone, daylight saving included: a local time that does not exist
 * (spring forward) fires at the first time after it, one that occurs twice (fall back) fires
 * once, while steps (`*\/30`) keep counting in real time. `L` is the last day of the month,
 * names (`MON`, `JAN`) and `@daily`-style nicknames are read. The library is croner.
 *
 * @param cron the expression
 * @param tz the IANA time zone it is read in
 * @returns its tick times
 * @throws {EdgebusError} code `invalid_schedule` when the expression cannot be read, the zone is
 * unknown, or the expression never fires
 *
 * @example Every Monday at 09:00 in Paris
 * ```ts
 * import { compileCron } from "@edgebus/edgebus/driver";
 * const times = compileCron("0 9 * * MON", "Europe/Paris");
 * console.log(new Date(times.next(Date.UTC(2026, 2, 24))!).toISOString()); // 2026-03-30T07:00:00.000Z
 * ```
 */
export function compileCron(cron: unknown, tz: string): CronTimes {
  assertTimeZone(tz);
  if (typeof cron !== "string" || cron.length > 256) {
    throw new EdgebusError(
      "invalid_schedule",
      `Invalid cron expression ${JSON.stringify(cron) ?? String(cron)}: expected a string of five or six fields`,
    );
  }
  let job: Cron;
  try {
    job = new Cron(cron.trim(), { timezone: tz, mode: "5-or-6-parts" });
  } catch (error) {
    throw new EdgebusError(
      "invalid_schedule",
      `Invalid cron expression ${JSON.stringify(cron)}: ${(error as Error).message.replace(/^CronPattern: /, "")}`,
      { cause: error },
    );
  }
  const times: CronTimes = {
    next: (after) => job.nextRun(new Date(after))?.getTime(),
    previous: (before) => job.previousRuns(1, new Date(before))[0]?.getTime(),
  };
  if (times.next(Date.UTC(2000, 0, 1)) === undefined) {
    throw new EdgebusError("invalid_schedule", `Invalid cron expression ${JSON.stringify(cron)}: it never fires`);
  }
  return times;
}
