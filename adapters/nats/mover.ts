import type { JetStreamClient, JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import { headers as makeHeaders } from "@nats-io/nats-core";
import { nextMessage } from "./messages.ts";
import { bucketSubject, type Names } from "./names.ts";
import { DUE_HEADER, GROUP_HEADER, ID_HEADER, MSG_ID_HEADER, SUBJECT_HEADER } from "./publish.ts";

/** What moving a bucket needs. */
export interface MoverDeps {
  readonly names: Names;
  readonly now: () => number;
  /** True when the event was cancelled. */
  readonly cancelled: (id: string) => Promise<boolean>;
  /** Messages read ahead and waiting for their due time, at most. */
  readonly maxHeld: number;
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
 * Makes the bucket mover. Events due within the scheduler's lead are held in memory until due
 * (bounded by `maxHeld`), so they arrive on time without a redelivery; everything further out
 * stays in JetStream.
 *
 * @param deps names, clock, cancellation check and the memory bound
 * @returns the mover
 */
export function createMover(deps: MoverDeps): Mover {
  const { names, now } = deps;
  const timers = new Map<ReturnType<typeof setTimeout>, (error: Error) => void>();

  const move = async (client: JetStreamClient, msg: StoredMsg): Promise<void> => {
    if (await deps.cancelled(msg.header.get(ID_HEADER))) return;
    const h = makeHeaders();
    const group = msg.header.get(GROUP_HEADER);
    if (group) h.set(GROUP_HEADER, group);
    // The same Nats-Msg-Id as any earlier attempt of this move: the stream drops a repeat.
    await client.publish(msg.header.get(SUBJECT_HEADER), msg.data, {
      msgID: msg.header.get(MSG_ID_HEADER),
      headers: h,
    });
  };

  const at = (client: JetStreamClient, msg: StoredMsg): Promise<void> => {
    const wait = Number(msg.header.get(DUE_HEADER)) - now();
    if (!(wait > 0)) return move(client, msg);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        move(client, msg).then(resolve, reject);
      }, wait);
      timers.set(timer, reject);
    });
  };

  return {
    async read(client, jsm, bucket) {
      const subject = bucketSubject(names, bucket);
      let from = 0;
      const moves: Promise<void>[] = [];
      let held: Promise<void>[] = [];
      for (;;) {
        const msg = await nextMessage(jsm, names.scheduleStream, subject, from);
        if (!msg) break;
        const moved = at(client, msg);
        moves.push(moved);
        held.push(moved);
        from = msg.seq + 1;
        if (held.length >= deps.maxHeld) {
          await Promise.all(held);
          held = [];
        }
      }
      const settled = Promise.all(moves).then(async () => {
        // Only what was read: an event added to the bucket meanwhile stays for the next round.
        if (from > 0) await jsm.streams.purge(names.scheduleStream, { filter: subject, seq: from });
      });
      return { settled };
    },
    cancelAll() {
      for (const [timer, reject] of timers) {
        clearTimeout(timer);
        reject(new Error("The scheduler stopped"));
      }
      timers.clear();
    },
  };
}
