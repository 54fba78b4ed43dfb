import { DEFAULT_LIST_LIMIT } from "../cursor.ts";
import type { Page, ScheduleStore } from "../driver.ts";
import { MAX_TIMER_MS } from "../run_handler.ts";
import type { FireTicks, ScheduleProgress } from "../schedule_fire.ts";
import { cronCache } from "../schedule_plan.ts";
import { replaceSchedule, sameSpec, type Schedule, type ScheduleQuery } from "../schedules.ts";

/** Schedules in process, with their timer: the memory driver's {@linkcode ScheduleStore}. */
export interface MemorySchedules extends ScheduleStore {
  /** Stops the timer; no tick is published after. */
  stop(): void;
}

interface Entry {
  schedule: Schedule;
  progress?: ScheduleProgress;
  /** The next tick to fire at, epoch ms (Infinity when paused or never). */
  next: number;
}

/** A failed publish is tried again after this many ms. */
const RETRY_MS = 1_000;

/**
 * Schedules kept in a `Map` and fired by one timer, armed at the earliest next tick of all.
 * Nothing survives a restart; a clock that jumps (a laptop's sleep, an injected clock) leaves
 * ticks behind that the catch-up policy decides on.
 *
 * @param now the clock
 * @returns the schedules
 *
 * @example
 * ```ts
 * import { makeSchedule, memorySchedules } from "@edgebus/edgebus/driver";
 * const schedules = memorySchedules(Date.now);
 * console.log(await schedules.declare(makeSchedule("s", "@daily", "tick", null, {}, Date.now()))); // created
 * schedules.stop();
 * ```
 */
export function memorySchedules(now: () => number): MemorySchedules {
  const entries = new Map<string, Entry>();
  const cache = cronCache();
  let fire: FireTicks | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerAt = Infinity;
  let firing = false;
  let stopped = false;

  const nextOf = (schedule: Schedule, after: number): number =>
    schedule.paused ? Infinity : cache.times(schedule).next(Math.max(after, schedule.since)) ?? Infinity;

  function arm(): void {
    if (!fire || stopped || firing) return;
    let earliest = Infinity;
    for (const entry of entries.values()) earliest = Math.min(earliest, entry.next);
    if (earliest === timerAt) return;
    clearTimeout(timer);
    timerAt = earliest;
    if (earliest === Infinity) return;
    timer = setTimeout(() => void run(), Math.min(MAX_TIMER_MS, Math.max(0, earliest - now())));
  }

  async function run(): Promise<void> {
    timerAt = Infinity;
    const at = now();
    const due = [...entries.values()].filter((e) => e.next <= at);
    if (due.length === 0 || !fire) return arm();
    firing = true;
    try {
      const fired = await fire(due.map(({ schedule, progress }) => ({ schedule, progress })), at);
      fired.forEach((result, i) => {
        const entry = due[i];
        // Declared again, paused or deleted meanwhile: that change decides.
        if (entries.get(entry.schedule.id) !== entry) return;
        entry.progress = result.progress;
        entry.next = result.error === undefined ? result.next ?? Infinity : at + RETRY_MS;
      });
    } catch {
      for (const entry of due) entry.next = at + RETRY_MS;
    } finally {
      firing = false;
      arm();
    }
  }

  const put = (schedule: Schedule, progress?: ScheduleProgress): void => {
    entries.set(schedule.id, { schedule, progress, next: nextOf(schedule, now()) });
    arm();
  };

  return {
    declare(schedule) {
      const stored = entries.get(schedule.id)?.schedule;
      if (stored && sameSpec(stored, schedule)) return Promise.resolve("unchanged");
      put(stored ? replaceSchedule(stored, schedule) : schedule);
      return Promise.resolve(stored ? "replaced" : "created");
    },
    get: (id) => Promise.resolve(entries.get(id)?.schedule),
    list(query: ScheduleQuery): Promise<Page<Schedule>> {
      const { limit = DEFAULT_LIST_LIMIT, cursor } = query;
      const ids = [...entries.keys()].filter((id) => cursor === undefined || id > cursor).sort();
      const items = ids.slice(0, limit).map((id) => entries.get(id)!.schedule);
      return Promise.resolve(ids.length > limit ? { items, cursor: items[items.length - 1].id } : { items });
    },
    setPaused(id, paused, at) {
      const entry = entries.get(id);
      if (!entry) return Promise.resolve(undefined);
      if (entry.schedule.paused === paused) return Promise.resolve(entry.schedule);
      const schedule = { ...entry.schedule, paused, updatedAt: at, ...(paused ? {} : { since: at }) };
      put(schedule, paused ? entry.progress : undefined);
      return Promise.resolve(schedule);
    },
    delete(id) {
      const existed = entries.delete(id);
      arm();
      return Promise.resolve(existed);
    },
    start(f) {
      fire = f;
      arm();
      return Promise.resolve();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
