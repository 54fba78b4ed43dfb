import type { JetStreamClient, JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import { headers as makeHeaders } from "@nats-io/nats-core";
import type { Envelope } from "../../driver/mod.ts";
import { atMost } from "./connect.ts";
import { hasApiCode, WRONG_LAST_SEQUENCE } from "./errors.ts";
import type { NextMessage } from "./messages.ts";
import { bucketSubject, delayedSubject, type Names } from "./names.ts";
import { readOutcome } from "./outcome.ts";
import { DUE_HEADER, ID_HEADER, MOVED_HEADER, MSG_ID_HEADER, scheduleMove, SUBJECT_HEADER } from "./publish.ts";
import { lastOn } from "./store.ts";

/** What moving a bucket needs. */
export interface MoverDeps {
  readonly names: Names;
  readonly now: () => number;
  /** Messages read and not yet moved, at most (their bodies are in memory). */
  readonly maxHeld: number;
  /** Bytes of messages read and not yet moved, at most. */
  readonly maxHeldBytes: number;
  /** How a bucket is read: from the stream's leader when it has replicas. */
  readonly next: NextMessage;
}

/** Moves the events of schedule buckets, each at its due time. */
export interface Mover {
  /**
   * Reads a bucket and arms a move for each event, at its due time or at once when past due;
   * resolves once everything is read, with a promise that settles when every move is done and
   * the bucket purged of what was read.
   */
  read(client: JetStreamClient, jsm: JetStreamManager, bucket: number): Promise<{ settled: Promise<void> }>;
  /** Drops the moves still waiting: their bucket stays unpurged for the next lease holder. */
  cancelAll(): void;
}

/**
 * ms a move waits for the event stream's acknowledgement, and a read of the schedule for its
 * answer. Both are repeated safely, so one sent to a server that just died is given up soon
 * and the bucket read again next round.
 */
const MOVE_TIMEOUT = 2_000;

interface Held {
  readonly msg: StoredMsg;
  readonly id: string;
  dropped: boolean;
  timer?: ReturnType<typeof setTimeout>;
  settle?: (error?: Error) => void;
}

/**
 * Makes the bucket mover. A bucket is read in one pass (up to a memory bound); events due within
 * the scheduler's lead then wait in timers, so they arrive on time without a redelivery, and
 * each is checked for a cancellation just before it moves. Everything further out stays in
 * JetStream.
 *
 * @param deps names, clock and the memory bounds
 * @returns the mover
 */
export function createMover(deps: MoverDeps): Mover {
  const { names, now } = deps;
  const byId = new Map<string, Held>();

  const forget = (h: Held): void => {
    if (byId.get(h.id) === h) byId.delete(h.id);
  };

  /**
   * What to do with a bucket's message: move it; skip it (the event was cancelled); or, when the
   * event's first version is another publish of the same id, schedule that version instead.
   */
  const check = async (jsm: JetStreamManager, msg: StoredMsg, retry: boolean): Promise<"move" | "skip" | Envelope> => {
    const id = msg.header.get(ID_HEADER);
    const [outcome, first] = await atMost(
      Promise.all([
        readOutcome(jsm, names, id),
        retry ? undefined : lastOn(jsm, names.delayedStream, delayedSubject(names, id)),
      ]),
      MOVE_TIMEOUT,
    );
    if (outcome.value?.cancelled !== undefined) return "skip";
    // No first version: the publisher stopped between its two writes, and the event is still due.
    if (first === undefined) return "move";
    const kept = first.json<Envelope>();
    return kept.time === msg.json<Envelope>().time ? "move" : kept;
  };

  /**
   * Puts an event's first version in a bucket of its own. Another publish of the same id wrote
   * this bucket message: one after the duplicate window (its first version was moved from its
   * own bucket, and a second move is refused by the event subject's compare-and-set), or a
   * publish tried again after a timeout whose bucket write had landed, so that the retry's own
   * bucket write was dropped as a duplicate and only this message can bring its version due.
   * A version due already goes in the current bucket, which the next round reads again.
   */
  const reschedule = async (client: JetStreamClient, msg: StoredMsg, kept: Envelope): Promise<void> => {
    const due = Math.max(kept.due, now());
    const msgId = `${kept.id}:${kept.time}`;
    await scheduleMove(client, names, { ...kept, due }, msg.header.get(SUBJECT_HEADER), msgId, MOVE_TIMEOUT);
  };

  const move = async (client: JetStreamClient, msg: StoredMsg): Promise<void> => {
    const target = msg.header.get(SUBJECT_HEADER);
    const retry = target.startsWith(`${names.prefix}.re.`);
    const h = makeHeaders();
    h.set(MOVED_HEADER, "1");
    // The same Nats-Msg-Id as any earlier attempt of this move: the stream drops a repeat, and an
    // event's subject takes one message, whatever the window.
    try {
      await client.publish(target, msg.data, {
        msgID: msg.header.get(MSG_ID_HEADER),
        headers: h,
        expect: retry ? undefined : { lastSubjectSequence: 0 },
        timeout: MOVE_TIMEOUT,
      });
    } catch (error) {
      if (!hasApiCode(error, WRONG_LAST_SEQUENCE)) throw error;
    }
  };

  const arm = (client: JetStreamClient, h: Held): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const fire = (): void => {
        h.timer = undefined;
        forget(h);
        if (h.dropped) resolve();
        else move(client, h.msg).then(resolve, reject);
      };
      h.settle = (error) => {
        clearTimeout(h.timer);
        forget(h);
        if (error) reject(error);
        else resolve();
      };
      const wait = Number(h.msg.header.get(DUE_HEADER)) - now();
      if (h.dropped) h.settle();
      else if (wait > 0) h.timer = setTimeout(fire, wait);
      else fire();
    });

  return {
    async read(client, jsm, bucket) {
      const subject = bucketSubject(names, bucket);
      let from = 0;
      let moves: Promise<void>[] = [];
      let batch: Held[] = [];
      let bytes = 0;
      const flush = (): void => {
        // Checked when read, seconds ahead of the move: a cancellation after it is caught by the
        // handlers, which read the outcome before they run.
        for (const h of batch) {
          const retry = h.msg.header.get(SUBJECT_HEADER).startsWith(`${names.prefix}.re.`);
          moves.push(
            check(jsm, h.msg, retry).then(async (next) => {
              if (next === "move") return arm(client, h);
              if (next !== "skip") await reschedule(client, h.msg, next);
              forget(h);
            }),
          );
        }
        batch = [];
        bytes = 0;
      };
      for (;;) {
        const msg = await atMost(deps.next(jsm, names.scheduleStream, subject, from), MOVE_TIMEOUT);
        if (!msg) break;
        from = msg.seq + 1;
        const h: Held = { msg, id: msg.header.get(ID_HEADER), dropped: false };
        byId.set(h.id, h);
        batch.push(h);
        bytes += msg.data.length;
        if (batch.length >= deps.maxHeld || bytes >= deps.maxHeldBytes) {
          flush();
          await Promise.all(moves);
          moves = [];
        }
      }
      flush();
      const settled = Promise.all(moves).then(async () => {
        // Only what was read: an event added to the bucket meanwhile stays for the next round.
        if (from > 0) await jsm.streams.purge(names.scheduleStream, { filter: subject, seq: from });
      });
      return { settled };
    },
    cancelAll() {
      for (const h of [...byId.values()]) h.settle?.(new Error("The scheduler stopped"));
      byId.clear();
    },
  };
}
