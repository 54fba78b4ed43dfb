import type { EventRecord } from "./driver.ts";
import { EdgebusError } from "./errors.ts";
import { type CronCache, cronCache, planTicks } from "./schedule_plan.ts";
import { type Schedule, tickId } from "./schedules.ts";
import type { PublishItem } from "./types.ts";

/** How far a driver has handled a schedule's ticks. */
export interface ScheduleProgress {
  /** Ticks at or before this time were handled (published, skipped or left out), epoch ms. */
  readonly last: number;
  /** The event id of the last tick published, when known (for `overlap: "skip"`). */
  readonly lastEvent?: string;
}

/** A schedule whose ticks may be due, and how far they were handled. */
export interface DueSchedule {
  /** The schedule. */
  readonly schedule: Schedule;
  /** How far its ticks were handled; without it, from the schedule's `since`. */
  readonly progress?: ScheduleProgress;
}

/** What became of one schedule's due ticks. */
export interface Fired {
  /** The progress to keep: as it was when publishing failed, so the ticks stay due. */
  readonly progress: ScheduleProgress;
  /** The next tick after now, epoch ms (absent when paused or when there is none). */
  readonly next?: number;
  /** Event ids of the ticks published now (or found published already). */
  readonly published: readonly string[];
  /** Tick times left out because the previous tick's event was still running. */
  readonly skipped: readonly number[];
  /** Why publishing failed, when it did. */
  readonly error?: unknown;
}

/**
 * Publishes the due ticks of schedules and answers, per schedule, the progress to keep and the
 * next tick. The bus makes one (see {@linkcode tickFirer}) and hands it to its driver's
 * schedules; the driver decides when to call it and which process does (timers, a lease, an
 * alarm) and keeps the progress. With `lead` (ms), ticks up to `now + lead` are published now
 * with `after` at their time (a driver whose transport holds events until due, so that many
 * ticks at once are delivered on time); ticks less than {@linkcode AHEAD_MARGIN} ahead, and
 * every tick of an `overlap: "skip"` schedule, wait for their time.
 */
export type FireTicks = (due: readonly DueSchedule[], now: number, lead?: number) => Promise<Fired[]>;

/** What ticks are published through: a bus. */
export interface TickTarget {
  /** Publishes events, all or none. */
  publishBatch(items: readonly PublishItem[]): Promise<string[]>;
  /** An event's record. */
  get(id: string): Promise<EventRecord | undefined>;
}

/** Events published in one `publishBatch`, and batches under way at once. */
const BATCH = 100;
const PARALLEL = 16;
const RUNNING = new Set(["scheduled", "pending", "retrying"]);
/** A tick is published ahead of its time only when it is at least this many ms ahead. */
export const AHEAD_MARGIN = 250;
/** The most ms ahead of its time a tick is published (a larger `lead` is cut to it). */
export const AHEAD_LIMIT = 3_000;

interface Work {
  readonly due: DueSchedule;
  readonly from: number;
  readonly ticks: number[];
  readonly skipped: number[];
  readonly next?: number;
  /** Ticks at or before this time are handled once the work is done. */
  readonly until: number;
  readonly ids: string[];
  error?: unknown;
}

/**
 * Makes the function that publishes schedules' ticks through a bus: each tick is an event with
 * id `<scheduleId>:<tick time>` (see {@linkcode tickId}), `origin: "schedule"`, the schedule's
 * name and body, so that the bus's deduplication publishes it once however many processes try.
 * Ticks come from {@linkcode planTicks} (the catch-up policy); with `overlap: "skip"` at most one
 * tick is published, and none while the previous tick's event is scheduled, pending or retrying.
 *
 * @param target the bus to publish through
 * @param cache compiled expressions @default {cronCache()}
 * @param clock the target's clock @default {Date.now}
 * @returns the function drivers call
 *
 * @example Fire a schedule's due ticks through a bus
 * ```ts
 * import { createBus } from "@edgebus/edgebus";
 * import { makeSchedule, tickFirer } from "@edgebus/edgebus/driver";
 * const bus = createBus();
 * const fire = tickFirer(bus);
 * const schedule = makeSchedule("s", "* * * * * *", "tick", null, {}, Date.UTC(2026, 0, 1));
 * const [fired] = await fire([{ schedule }], Date.UTC(2026, 0, 1, 0, 0, 2));
 * console.log(fired.published); // [ "s:20260101T000001Z", "s:20260101T000002Z" ]
 * await bus.stop();
 * ```
 */
export function tickFirer(
  target: TickTarget,
  cache: CronCache = cronCache(),
  clock: () => number = Date.now,
): FireTicks {
  async function overlapping(work: Work): Promise<boolean> {
    const { schedule, progress } = work.due;
    const previous = progress?.lastEvent ??
      (() => {
        const t = cache.times(schedule).previous(work.ticks[0]);
        return t === undefined ? undefined : tickId(schedule.id, t);
      })();
    if (previous === undefined) return false;
    const record = await target.get(previous);
    return record !== undefined && RUNNING.has(record.status);
  }

  function plan(due: DueSchedule, now: number, lead: number): Work {
    const { schedule, progress } = due;
    const from = Math.max(schedule.since, progress?.last ?? -Infinity);
    if (schedule.paused) return { due, from, ticks: [], skipped: [], until: now, ids: [] };
    const until = schedule.overlap === "skip" ? now : now + Math.min(lead, AHEAD_LIMIT);
    const planned = planTicks(cache.times(schedule), schedule.catchUp, from, now, undefined, until);
    // A tick only just ahead waits for its time: published with `after` it could be refused as past.
    const soon = planned.ticks.findIndex((t) => t > now && t < now + AHEAD_MARGIN);
    if (soon < 0) return { due, from, ticks: planned.ticks, skipped: [], next: planned.next, until, ids: [] };
    const wait = planned.ticks[soon];
    return { due, from, ticks: planned.ticks.slice(0, soon), skipped: [], next: wait, until: wait - 1, ids: [] };
  }

  async function publishBatch(batch: readonly { tick: number; item: PublishItem }[]): Promise<void> {
    try {
      await target.publishBatch(batch.map((b) => b.item));
    } catch (error) {
      if (!(error instanceof EdgebusError) || error.code !== "invalid_delay") throw error;
      // A tick published ahead came due while the batch waited: publish it as due now.
      const at = clock();
      await target.publishBatch(batch.map(({ tick, item }) => tick > at + 10 ? item : { ...item, after: undefined }));
    }
  }

  async function publish(works: readonly Work[], now: number): Promise<void> {
    const items: { work: Work; tick: number; item: PublishItem }[] = [];
    for (const work of works) {
      const { id, name, body } = work.due.schedule;
      for (const t of work.ticks) {
        const item: PublishItem = {
          name,
          body,
          id: tickId(id, t),
          origin: "schedule",
          ...(t > now ? { after: t } : {}),
        };
        items.push({ work, tick: t, item });
      }
    }
    const batches: (typeof items)[] = [];
    for (let i = 0; i < items.length; i += BATCH) batches.push(items.slice(i, i + BATCH));
    let nextBatch = 0;
    const worker = async (): Promise<void> => {
      while (nextBatch < batches.length) {
        const batch = batches[nextBatch++];
        try {
          await publishBatch(batch);
          for (const { work, item } of batch) work.ids.push(item.id!);
        } catch (error) {
          for (const { work } of batch) work.error ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, batches.length) }, worker));
  }

  return async (due, now, lead = 0) => {
    const works = due.map((d) => plan(d, now, lead));
    await Promise.all(works.map(async (work) => {
      if (work.due.schedule.overlap !== "skip" || work.ticks.length === 0) return;
      try {
        // One tick at most: the second would overlap the first.
        const skip = await overlapping(work) ? work.ticks.length : work.ticks.length - 1;
        work.skipped.push(...work.ticks.splice(0, skip));
      } catch (error) {
        work.error = error;
        work.ticks.length = 0;
      }
    }));
    await publish(works.filter((w) => w.error === undefined && w.ticks.length > 0), now);
    return works.map((work): Fired => {
      const kept = work.due.progress ?? { last: work.from };
      if (work.error !== undefined) {
        return { progress: kept, next: work.next, published: [], skipped: [], error: work.error };
      }
      const lastEvent = work.ids.at(-1) ?? kept.lastEvent;
      return {
        progress: lastEvent === undefined ? { last: work.until } : { last: work.until, lastEvent },
        next: work.next,
        published: work.ids,
        skipped: work.skipped,
      };
    });
  };
}
