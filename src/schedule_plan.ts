import { compileCron, type CronTimes } from "./cron.ts";
import { type CatchUp, MAX_CATCH_UP, MISSED_AFTER, type Schedule } from "./schedules.ts";

/** Which ticks to publish now, and when the next one is. */
export interface TickPlan {
  /** Tick times to publish, oldest first, epoch ms. */
  readonly ticks: number[];
  /** The first tick after `now`, epoch ms; `undefined` when there is none. */
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
 * @returns the ticks to publish and the next tick
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
): TickPlan {
  const onTimeFrom = Math.max(from, now - MISSED_AFTER);
  const missed: number[] = [];
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
  for (let t = times.next(onTimeFrom); t !== undefined && t <= now; t = times.next(t)) ticks.push(t);
  return { ticks, next: times.next(now) };
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
 */
export function cronCache(size = 10_000): CronCache {
  const compiled = new Map<string, CronTimes>();
  return {
    times({ cron, tz }) {
      const key = `${tz} ${cron}`;
      let times = compiled.get(key);
      if (!times) {
        if (compiled.size >= size) compiled.clear();
        times = compileCron(cron, tz);
        compiled.set(key, times);
      }
      return times;
    },
  };
}
