import { compileCron, type CronTimes } from "./cron.ts";
import { type CatchUp, MAX_CATCH_UP, MISSED_AFTER, type Schedule } from "./schedules.ts";

/** Which ticks to publish now, and when the next one is. */
export interface TickPlan {
  /** Tick times to publish, oldest first, epoch ms. */
  readonly ticks: number[];
  /** The first tick after `until` (`now` unless given), epoch ms; `undefined` when there is none. */
  readonly next?: number;
}

/**
 * The ticks of a schedule due by `now` that were not handled yet (those after `from`), under its
 * catch-up policy: ticks at most {@linkcode MISSED_AFTER} ms late are on time and always
 * published; older ones were missed, and `catchUp` keeps all of them (at most `cap`, the
 * latest), the latest, or none. Pure: no clock, no timer.
 *
 * @param times the schedule's tick times
 * @param catchUp what to do with missed ticks
 * @param from ticks at or before this time were handled already, epoch ms
 * @param now the current time, epoch ms
 * @param cap the most missed ticks `all` keeps @default {MAX_CATCH_UP}
 * @param until the latest tick to plan, at or after `now` (to publish ticks ahead of their time) @default {now}
 * @returns the ticks to publish and the next tick (after `until`)
 *
 * @example A daily schedule down for three days, catching up the latest day only
 * ```ts
 * import { compileCron, planTicks } from "@edgebus/edgebus/driver";
 * const times = compileCron("0 6 * * *", "UTC");
 * const plan = planTicks(times, "latest", Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 4, 12));
 * console.log(plan.ticks.map((t) => new Date(t).toISOString())); // [ "2026-01-04T06:00:00.000Z" ]
 * ```
 */
export function planTicks(
  times: CronTimes,
  catchUp: CatchUp,
  from: number,
  now: number,
  cap: number = MAX_CATCH_UP,
  until: number = now,
): TickPlan {
  const onTimeFrom = Math.max(from, now - MISSED_AFTER);
  const missed: number[] = [];
  // The common case costs one step forward: the first tick after `from` is not a missed one.
  const first = times.next(from);
  if (first === undefined || first > onTimeFrom) {
    const ticks: number[] = [];
    for (let t = first; t !== undefined && t <= until; t = times.next(t)) ticks.push(t);
    return { ticks, next: ticks.length === 0 ? first : times.next(until) };
  }
  if (catchUp !== "none" && onTimeFrom > from) {
    const keep = catchUp === "latest" ? 1 : cap;
    // Walked back from the newest, so that a long outage costs `keep` steps, not one per tick missed.
    for (let t = times.previous(onTimeFrom + 1); t !== undefined && t > from && missed.length < keep;) {
      missed.push(t);
      t = times.previous(t);
    }
    missed.reverse();
  }
  const ticks = missed;
  for (let t = times.next(onTimeFrom); t !== undefined && t <= until; t = times.next(t)) ticks.push(t);
  return { ticks, next: times.next(until) };
}

/**
 * Compiled expressions by zone and expression, kept by one bus or driver: schedules often share
 * an expression, and compiling is the costly part of planning.
 */
export interface CronCache {
  /** The tick times of a schedule's expression in its zone. */
  times(schedule: Pick<Schedule, "cron" | "tz">): CronTimes;
}

/**
 * Makes a cache of compiled expressions, emptied when it grows past `size`.
 *
 * @param size the most expressions kept @default {10000}
 * @returns the cache
 *
 * @example
 * ```ts
 * import { cronCache } from "@edgebus/edgebus/driver";
 * const cache = cronCache();
 * console.log(cache.times({ cron: "0 * * * *", tz: "UTC" }) === cache.times({ cron: "0 * * * *", tz: "UTC" })); // true
 * ```
 */
export function cronCache(size = 10_000): CronCache {
  const compiled = new Map<string, CronTimes>();
  return {
    times({ cron, tz }) {
      const key = `${tz} ${cron}`;
      let times = compiled.get(key);
      if (!times) {
        if (compiled.size >= size) compiled.clear();
        times = remembered(compileCron(cron, tz));
        compiled.set(key, times);
      }
      return times;
    },
  };
}

/**
 * Tick times that remember their last answers: schedules sharing an expression are planned
 * from the same times (all fired in one round), so one computation serves thousands of them.
 */
function remembered(times: CronTimes): CronTimes {
  const memo = (fn: (at: number) => number | undefined) => {
    const answers = new Map<number, number | undefined>();
    return (at: number): number | undefined => {
      if (answers.has(at)) return answers.get(at);
      const answer = fn(at);
      if (answers.size >= 64) answers.clear();
      answers.set(at, answer);
      return answer;
    };
  };
  return { next: memo(times.next), previous: memo(times.previous) };
}
