import type { JetStreamClient, JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import { headers as makeHeaders } from "@nats-io/nats-core";
import { nextMessage } from "./messages.ts";
import { bucketSubject, type Names } from "./names.ts";
import { CANCEL_HEADER, DUE_HEADER, GROUP_HEADER, ID_HEADER, MSG_ID_HEADER, SUBJECT_HEADER } from "./publish.ts";

/** What moving a bucket needs. */
export interface MoverDeps {
  readonly names: Names;
  readonly now: () => number;
  /** Messages read and not yet moved, at most (their bodies are in memory). */
  readonly maxHeld: number;
  /** Bytes of messages read and not yet moved, at most. */
  readonly maxHeldBytes: number;
}

/** Moves the events of schedule buckets, each at its due time. */
export interface Mover {
  /**
   * Reads a bucket and arms a move for each event, at its due time or at once when past due;
   * resolves once everything is read, with a promise that settles when every move is done and
   * the bucket purged of what was read.
   */
  read(client: JetStreamClient, jsm: JetStreamManager, bucket: number): Promise<{ settled: Promise<void> }>;
  /** Forgets a held event that was cancelled. */
  drop(id: string): void;
  /** Drops the moves still waiting: their bucket stays unpurged for the next lease holder. */
  cancelAll(): void;
}

interface Held {
  readonly msg: StoredMsg;
  readonly id: string;
  dropped: boolean;
  timer?: ReturnType<typeof setTimeout>;
  settle?: (error?: Error) => void;
}

/**
 * Makes the bucket mover. A bucket is read in one pass and its events held until the pass ends
 * (or a memory bound is reached), so that a cancellation mark later in the same bucket drops
 * them; events due within the scheduler's lead then wait in timers, so they arrive on time
 * without a redelivery. Everything further out stays in JetStream.
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

  const move = async (client: JetStreamClient, msg: StoredMsg): Promise<void> => {
    const h = makeHeaders();
    const group = msg.header.get(GROUP_HEADER);
    if (group) h.set(GROUP_HEADER, group);
    // The same Nats-Msg-Id as any earlier attempt of this move: the stream drops a repeat.
    await client.publish(msg.header.get(SUBJECT_HEADER), msg.data, {
      msgID: msg.header.get(MSG_ID_HEADER),
      headers: h,
    });
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

  const drop = (id: string): void => {
    const h = byId.get(id);
    if (!h) return;
    h.dropped = true;
    h.settle?.();
  };

  return {
    async read(client, jsm, bucket) {
      const subject = bucketSubject(names, bucket);
      let from = 0;
      let moves: Promise<void>[] = [];
      let batch: Held[] = [];
      let bytes = 0;
      const flush = (): void => {
        for (const h of batch) moves.push(arm(client, h));
        batch = [];
        bytes = 0;
      };
      for (;;) {
        const msg = await nextMessage(jsm, names.scheduleStream, subject, from);
        if (!msg) break;
        from = msg.seq + 1;
        const cancelled = msg.header.get(CANCEL_HEADER);
        if (cancelled) {
          drop(cancelled);
          continue;
        }
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
    drop,
    cancelAll() {
      for (const h of [...byId.values()]) h.settle?.(new Error("The scheduler stopped"));
      byId.clear();
    },
  };
}
