import type { ConsumerMessages } from "@nats-io/jetstream";
import {
  cronCache,
  type FireTicks,
  type Schedule,
  type ScheduleProgress,
  type ScheduleStore,
} from "../../driver/mod.ts";
import { type CronNames, idOfSubject, scheduleOf } from "./cron.ts";
import { atMost } from "./connect.ts";
import type { WithJs } from "./store.ts";

/** Options of {@linkcode cronRunner}. */
export interface CronRunnerOptions {
  readonly cron: CronNames;
  readonly js: WithJs;
  readonly now: () => number;
  /** How long a lease seen held lasts, ms: past it without a new round this process waits to fire. */
  readonly leaseTtl: number;
}

/** The firing of schedules under the scheduler's lease. */
export interface CronRunner {
  /** Takes the bus's tick publisher (`ScheduleStore.start`). */
  start: NonNullable<ScheduleStore["start"]>;
  /** Called by the scheduler after each attempt on the lease: fires while `held`. */
  onRound(held: boolean): void;
  /** Stops firing for good. */
  stop(): Promise<void>;
}

const RETRY_MS = 1_000;
/** ms a read of the schedules' stream may take before it is given up and tried again next round. */
const READ_TIMEOUT = 1_000;
/**
 * Ticks are published this many ms ahead, due at their time: events due within the driver's
 * direct lead (3 s) go straight to their stream, where consumers hold them until due, so ten
 * thousand ticks of one minute are delivered on time rather than as fast as they can be written.
 */
const LEAD = 2_000;
const encoder = new TextEncoder();

/**
 * Fires schedules in the process that holds the scheduler's lease. On taking the lease it reads
 * where the last holder got to (the cursor: every tick at or before it was published), then
 * follows the schedules' stream with an ordered consumer (declarations, pauses and deletions
 * from any process arrive within milliseconds), and keeps one timer at the earliest next tick.
 * After each round it saves the cursor. A tick fired twice (two processes that each believe
 * they hold the lease, a holder that died after publishing but before saving the cursor) is
 * published once: its event id is the same.
 *
 * @param options names, JetStream access, clock, lease time to live
 * @returns the runner
 */
export function cronRunner(options: CronRunnerOptions): CronRunner {
  const { cron, js, now, leaseTtl } = options;
  const cache = cronCache();
  const specs = new Map<string, Schedule>();
  const progress = new Map<string, ScheduleProgress>();
  /** When each schedule is next fired (its next tick, or `LEAD` before it), epoch ms. */
  const nextAt = new Map<string, number>();
  let fire: FireTicks | undefined;
  let active = false;
  let loaded = false;
  let stopped = false;
  let heldUntil = 0;
  let cursor = -Infinity;
  let watcher: ConsumerMessages | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let firing: Promise<void> | undefined;

  /** When to fire a schedule whose next tick is `next`: `LEAD` ahead, unless it waits for its time. */
  const wakeOf = (s: Schedule, next: number, at: number): number =>
    s.overlap === "skip" || next - LEAD <= at ? next : next - LEAD;
  const nextOf = (s: Schedule, after: number): number =>
    s.paused ? Infinity : cache.times(s).next(Math.max(after, s.since, progress.get(s.id)?.last ?? -Infinity)) ??
      Infinity;

  function arm(): void {
    clearTimeout(timer);
    if (!active || !loaded || firing) return;
    let earliest = Infinity;
    for (const at of nextAt.values()) if (at < earliest) earliest = at;
    // Wake at least once a lease period to notice a lost lease.
    const wait = Math.min(Math.max(0, earliest - now()), leaseTtl);
    timer = setTimeout(() => void round(), wait);
  }

  function apply(subject: string, schedule: Schedule | undefined): void {
    const id = schedule?.id ?? idOfSubject(subject);
    if (!schedule) {
      specs.delete(id);
      progress.delete(id);
      nextAt.delete(id);
    } else {
      specs.set(id, schedule);
      if (cursor > -Infinity && !progress.has(id)) progress.set(id, { last: cursor });
      // Ticks since the last one handled are due: a past time makes the next round fire them.
      const next = nextOf(schedule, -Infinity);
      nextAt.set(id, next <= now() ? next : wakeOf(schedule, next, now()));
    }
    if (loaded) arm();
  }

  async function watch(): Promise<void> {
    // Each read waits at most READ_TIMEOUT: an unanswered request (seen now and then on a server
    // just started, and on a cluster's dying node) would otherwise hold firing for nats.js's 5 s,
    // where giving up lets the next round try again at once.
    cursor = await js(async (_, jsm) => {
      const msg = await atMost(jsm.direct.getMessage(cron.stream, { last_by_subj: cron.cursor }), READ_TIMEOUT);
      return msg?.json<{ at: number }>().at ?? -Infinity;
    });
    const first = await js((_, jsm) =>
      atMost(jsm.direct.getMessage(cron.stream, { next_by_subj: cron.all, seq: 0 }), READ_TIMEOUT)
    );
    if (!first) loaded = true;
    const consumer = await js((client) =>
      atMost(client.consumers.get(cron.stream, { filter_subjects: cron.all }), READ_TIMEOUT)
    );
    watcher = await consumer.consume({
      max_messages: 1_000,
      callback: (msg) => {
        apply(msg.subject, scheduleOf(msg));
        if (!loaded && msg.info.pending === 0) loaded = true;
        if (loaded) arm();
      },
    });
    arm();
  }

  async function activate(): Promise<void> {
    active = true;
    try {
      await watch();
    } catch {
      deactivate(); // the next round with the lease tries again
    }
  }

  function deactivate(): void {
    active = false;
    loaded = false;
    clearTimeout(timer);
    void watcher?.close();
    watcher = undefined;
    specs.clear();
    progress.clear();
    nextAt.clear();
    cursor = -Infinity;
  }

  /**
   * A skip schedule's last tick event, read from its message when this process does not know it
   * (it just took the lease), so that a tick still running from before a takeover is waited for.
   */
  async function recallLast(due: readonly Schedule[]): Promise<void> {
    const unknown = due.filter((s) => s.overlap === "skip" && progress.get(s.id)?.lastEvent === undefined);
    await js((_, jsm) =>
      Promise.all(unknown.map(async (s) => {
        const msg = await jsm.direct.getMessage(cron.stream, { last_by_subj: cron.last(s.id) });
        const lastEvent = msg?.json<{ event: string }>().event;
        if (lastEvent !== undefined) progress.set(s.id, { last: progress.get(s.id)?.last ?? s.since, lastEvent });
      }))
    );
  }

  async function rememberLast(due: readonly Schedule[], published: readonly (string | undefined)[]): Promise<void> {
    await js((client) =>
      Promise.all(due.map((s, i) => {
        const event = published[i];
        if (s.overlap !== "skip" || event === undefined) return;
        return client.publish(cron.last(s.id), encoder.encode(JSON.stringify({ event })));
      }))
    );
  }

  async function round(): Promise<void> {
    if (!active || !fire) return;
    // No round has confirmed the lease lately (NATS unreachable): wait rather than fire.
    if (now() > heldUntil) return arm();
    const at = now();
    const due = [...specs.values()].filter((s) => nextAt.get(s.id)! <= at);
    if (due.length === 0) return arm();
    const run = (async () => {
      await recallLast(due);
      const fired = await fire!(due.map((schedule) => ({ schedule, progress: progress.get(schedule.id) })), at, LEAD);
      await rememberLast(due, fired.map((f) => f.published.at(-1)));
      let upTo = at;
      fired.forEach((result, i) => {
        const { id } = due[i];
        if (specs.get(id) !== due[i]) return; // changed meanwhile: the watcher set it anew
        progress.set(id, result.progress);
        const failed = result.error !== undefined;
        nextAt.set(id, failed ? at + RETRY_MS : wakeOf(due[i], result.next ?? Infinity, at));
        if (failed) upTo = Math.min(upTo, result.progress.last);
      });
      if (upTo > cursor) {
        cursor = upTo;
        await js((client) => client.publish(cron.cursor, encoder.encode(JSON.stringify({ at: upTo }))));
      }
    })();
    firing = run.catch(() => {});
    try {
      await run;
    } catch {
      for (const s of due) if (specs.get(s.id) === s) nextAt.set(s.id, at + RETRY_MS);
    } finally {
      firing = undefined;
      arm();
    }
  }

  return {
    start(f) {
      fire = f;
      return Promise.resolve();
    },
    onRound(held) {
      if (stopped) return;
      if (!held) {
        if (active) deactivate();
        return;
      }
      // A round can outlast the lease's time to live under load (the lease is renewed inside it):
      // firing a little past it costs at most a duplicate publish, which the tick's id drops.
      heldUntil = now() + 4 * leaseTtl;
      if (!active && fire) void activate();
    },
    async stop() {
      stopped = true;
      await firing;
      deactivate();
    },
  };
}
