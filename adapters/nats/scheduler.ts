import type { JetStreamManager } from "@nats-io/jetstream";
import { atMost } from "./connect.ts";
import { createLease } from "./lease.ts";
import type { Lease } from "./lease.ts";
import { type NextMessage, nextMessage, nextMessageFromLeader } from "./messages.ts";
import { createMover, type Mover } from "./mover.ts";
import { BUCKET_MS, type Names, SPANS, spanSubject } from "./names.ts";
import type { WithJs } from "./store.ts";

/** What the scheduler needs. */
export interface SchedulerDeps {
  readonly names: Names;
  readonly js: WithJs;
  readonly lease: Lease;
  readonly mover: Mover;
  readonly now: () => number;
  /** ms between rounds. */
  readonly tick: number;
  /** Buckets are read this many ms ahead of their time; their events wait in timers until due. */
  readonly lead: number;
  /** Events may still be added to buckets this many ms in the past (publish latency, clock skew). */
  readonly grace: number;
  /** Told after each attempt on the lease whether this process holds it (schedules fire under it). */
  readonly onRound?: (held: boolean) => void;
  /** How the schedule is read: from the stream's leader when it has replicas. */
  readonly next: NextMessage;
}

/** A running scheduler. */
export interface Scheduler {
  /** Stops after the current round and gives up the lease. */
  stop(): Promise<void>;
}

/** ms a look-up waits for its answer: one sent to a server that just died is tried again next round instead. */
const READ_TIMEOUT = 2_000;

function createdAt(created: string): number {
  // nats-server reports nanoseconds, which Date.parse may refuse.
  return Date.parse(created.replace(/\.(\d{3})\d*Z$/, ".$1Z"));
}

/**
 * Moves delayed events from the schedule stream to their event streams when due. Delayed
 * events sit in JetStream on subjects bucketed by due second
 * (`<prefix>.sched.<hour>.<minute>.<second>`), never in process memory. Each round, the lease
 * holder walks the buckets from its cursor up to now plus `lead`, skipping an empty hour or
 * minute with one lookup (a year of catching up is about 9,000 lookups), and hands each bucket
 * to the mover. The cursor it saves with the lease only passes buckets that are closed (older than
 * `grace`) and fully moved, so a new holder resumes where the last one was sure of.
 *
 * @param deps the names, JetStream access, the lease, the mover, the clock and the timing
 * @returns the running scheduler
 */
export function startScheduler(deps: SchedulerDeps): Scheduler {
  const { names, js, lease, mover, now, tick } = deps;
  const moving = new Set<number>();
  const failed = new Set<number>();
  let stopped = false;
  let wake: (() => void) | undefined;

  const initialCursor = () =>
    js(async (_, jsm) => Math.floor(createdAt((await jsm.streams.info(names.scheduleStream)).created) / BUCKET_MS));

  const any = async (jsm: JetStreamManager, subject: string): Promise<boolean> =>
    (await atMost(deps.next(jsm, names.scheduleStream, subject, 0), READ_TIMEOUT)) !== null;

  const safeCursor = (cursor: number, reached: number, closed: number): number =>
    Math.max(cursor, Math.min(reached, closed, ...moving, ...failed));

  const round = async (): Promise<void> => {
    const cursor = await lease.acquire(initialCursor);
    deps.onRound?.(cursor !== undefined);
    if (cursor === undefined) return;
    await js(async (client, jsm) => {
      const at = now();
      const last = Math.floor((at + deps.lead) / BUCKET_MS);
      const closed = Math.floor((at - deps.grace) / BUCKET_MS);
      let bucket = cursor;
      let saved = Date.now();
      const populated = new Set<string>(); // hours and minutes seen holding events, this round
      const skip = async (b: number): Promise<number | undefined> => {
        for (const span of SPANS) {
          if (last - b < span) continue;
          const subject = spanSubject(names, b, span);
          if (populated.has(subject)) continue;
          if (!(await any(jsm, subject))) return (Math.floor(b / span) + 1) * span;
          populated.add(subject);
        }
        return undefined;
      };
      while (bucket <= last && !stopped) {
        const next = moving.has(bucket) ? bucket + 1 : await skip(bucket);
        if (next !== undefined) bucket = next;
        else {
          const b = bucket++;
          failed.delete(b);
          moving.add(b);
          let settled: Promise<void>;
          try {
            ({ settled } = await mover.read(client, jsm, b));
          } catch (error) {
            // Not read to the end (a read unanswered while a leader is elected): read again from
            // the start next round. Left among the buckets being moved, it would be skipped by every
            // later round and its events never moved.
            moving.delete(b);
            failed.add(b);
            throw error;
          }
          settled.catch(() => failed.add(b)).finally(() => moving.delete(b));
        }
        if (Date.now() - saved > tick) {
          if (!(await lease.save(safeCursor(cursor, bucket, closed)))) return;
          saved = Date.now();
        }
      }
      await lease.save(safeCursor(cursor, bucket, closed));
    });
  };

  const loop = (async () => {
    while (!stopped) {
      try {
        await round();
      } catch {
        // NATS unreachable or restarting: try again next round; the cursor only moves on success.
      }
      if (stopped) break;
      // A standby wakes just after another's lease runs out rather than on its next round, so a
      // holder that died is replaced in about the lease's time to live.
      const expires = lease.expires();
      const wait = expires > 0 ? Math.min(tick, Math.max(1, expires - now() + 2)) : tick;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, wait);
      });
    }
  })();

  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      mover.cancelAll();
      await lease.release().catch(() => {});
    },
  };
}

/** Timing of {@linkcode startScheduling}. */
export interface SchedulingOptions {
  readonly names: Names;
  readonly js: WithJs;
  readonly now: () => number;
  /** This process's unique name in the lease. */
  readonly owner: string;
  readonly tick: number;
  readonly leaseTtl: number;
  readonly lead: number;
  /** Told after each attempt on the lease whether this process holds it. */
  readonly onRound?: (held: boolean) => void;
  /** Copies of the schedule stream: with more than one, it is read from its leader. */
  readonly replicas: number;
}

/**
 * Starts this process's part in scheduling: it competes for the lease, and while it holds it,
 * moves due events.
 *
 * @param options names, JetStream access, clock, owner and timing
 * @returns the running scheduler
 */
export function startScheduling(options: SchedulingOptions): Scheduler {
  const { names, js, now, owner, tick, leaseTtl, lead, onRound } = options;
  // A bucket read as empty is passed for good: with replicas, only the leader's answer will do.
  const next = options.replicas > 1 ? nextMessageFromLeader : nextMessage;
  const lease = createLease(names, js, owner, leaseTtl, now);
  const mover = createMover({ names, now, maxHeld: 10_000, maxHeldBytes: 32 * 1_048_576, next });
  return startScheduler({ names, js, lease, mover, now, tick, lead, grace: 2_000, onRound, next });
}
