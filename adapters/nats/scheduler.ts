import type { JetStreamClient, JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import { headers as makeHeaders } from "@nats-io/nats-core";
import type { Lease } from "./lease.ts";
import { nextMessage } from "./messages.ts";
import { BUCKET_MS, BUCKETS_PER_GROUP, bucketSubject, groupSubject, type Names } from "./names.ts";
import { GROUP_HEADER, MSG_ID_HEADER, SUBJECT_HEADER } from "./publish.ts";
import type { WithJs } from "./store.ts";

/** What the scheduler needs. */
export interface SchedulerDeps {
  readonly names: Names;
  readonly js: WithJs;
  readonly lease: Lease;
  readonly now: () => number;
  /** ms between rounds. */
  readonly tick: number;
  /** Buckets are moved this many ms before they are due; consumers hold early events back. */
  readonly lead: number;
  /** Events may still be added to buckets this many ms in the past (publish latency, clock skew). */
  readonly grace: number;
  /** Moves in flight at once. */
  readonly inFlight: number;
}

/** A running scheduler. */
export interface Scheduler {
  /** Stops after the current round and gives up the lease. */
  stop(): Promise<void>;
}

function createdAt(created: string): number {
  // nats-server reports nanoseconds, which Date.parse may refuse.
  return Date.parse(created.replace(/\.(\d{3})\d*Z$/, ".$1Z"));
}

/**
 * Moves delayed events from the schedule stream to their event streams when due. Delayed
 * events sit in JetStream on subjects bucketed by due second (`<prefix>.sched.<min>.<sec>`),
 * never in process memory. Each round, the lease holder walks the buckets from its cursor up
 * to now plus `lead`, skipping empty minutes with one lookup, reads each bucket one message at
 * a time, republishes each with its `Nats-Msg-Id` (so a second scheduler redoing a move after a
 * takeover is dropped as a duplicate), and then purges what it read from the bucket.
 *
 * @param deps the names, JetStream access, the lease, the clock and the timing
 * @returns the running scheduler
 */
export function startScheduler(deps: SchedulerDeps): Scheduler {
  const { names, js, lease, now, tick } = deps;
  let stopped = false;
  let wake: (() => void) | undefined;

  const initialCursor = () =>
    js(async (_, jsm) => Math.floor(createdAt((await jsm.streams.info(names.scheduleStream)).created) / BUCKET_MS));

  const round = async (): Promise<void> => {
    const cursor = await lease.acquire(initialCursor);
    if (cursor === undefined) return;
    await js(async (client, jsm) => {
      const at = now();
      const last = Math.floor((at + deps.lead) / BUCKET_MS);
      const closed = Math.floor((at - deps.grace) / BUCKET_MS); // buckets before this get no more events
      let bucket = cursor;
      let saved = Date.now();
      while (bucket <= last && !stopped) {
        const group = Math.floor(bucket / BUCKETS_PER_GROUP);
        if (last - bucket >= BUCKETS_PER_GROUP && !(await any(jsm, groupSubject(names, group)))) {
          bucket = (group + 1) * BUCKETS_PER_GROUP;
        } else {
          await drain(client, jsm, bucket);
          bucket++;
        }
        if (Date.now() - saved > tick && !(await lease.save(Math.min(bucket, Math.max(cursor, closed))))) return;
        saved = Date.now();
      }
      await lease.save(Math.max(cursor, Math.min(bucket, closed)));
    });
  };

  const any = async (jsm: JetStreamManager, subject: string): Promise<boolean> =>
    (await nextMessage(jsm, names.scheduleStream, subject, 0)) !== null;

  const move = (client: JetStreamClient, msg: StoredMsg): Promise<unknown> => {
    const target = msg.header.get(SUBJECT_HEADER);
    const h = makeHeaders();
    const group = msg.header.get(GROUP_HEADER);
    if (group) h.set(GROUP_HEADER, group);
    return client.publish(target, msg.data, { msgID: msg.header.get(MSG_ID_HEADER), headers: h });
  };

  const drain = async (client: JetStreamClient, jsm: JetStreamManager, bucket: number): Promise<void> => {
    const subject = bucketSubject(names, bucket);
    let from = 0;
    let moves: Promise<unknown>[] = [];
    for (;;) {
      const msg = await nextMessage(jsm, names.scheduleStream, subject, from);
      if (!msg) break;
      moves.push(move(client, msg));
      from = msg.seq + 1;
      if (moves.length >= deps.inFlight) {
        await Promise.all(moves);
        moves = [];
      }
    }
    await Promise.all(moves);
    // Only what was read and moved: an event added to this bucket meanwhile stays for the next round.
    if (from > 0) await jsm.streams.purge(names.scheduleStream, { filter: subject, seq: from });
  };

  const loop = (async () => {
    while (!stopped) {
      try {
        await round();
      } catch {
        // NATS unreachable or restarting: try again next round; the cursor only moves on success.
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, tick);
      });
    }
  })();

  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      await lease.release().catch(() => {});
    },
  };
}
