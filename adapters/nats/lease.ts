import { atMost } from "./connect.ts";
import { hasApiCode, WRONG_LAST_SEQUENCE } from "./errors.ts";
import { leaseSubject, type Names } from "./names.ts";
import type { WithJs } from "./store.ts";

/** What the lease message holds. */
interface LeaseState {
  /** Who schedules. */
  readonly owner: string;
  /** Until when, epoch ms; past it anyone may take over. */
  readonly until: number;
  /** The first schedule bucket not yet fully moved. */
  readonly cursor: number;
}

/** The scheduler's lease: one holder at a time, with where it got to. */
export interface Lease {
  /** Takes or renews the lease; the cursor to resume from, or `undefined` when another holds it. */
  acquire(initialCursor: () => Promise<number>): Promise<number | undefined>;
  /** Renews the lease and records the cursor; false when the lease was lost. */
  save(cursor: number): Promise<boolean>;
  /** Gives the lease up so that another process takes over at once. */
  release(): Promise<void>;
  /** When another's lease, as last seen by `acquire`, runs out (epoch ms); 0 when none was seen. */
  expires(): number;
}

const encoder = new TextEncoder();
/** ms the lease's read waits: one sent to a server that just died is never answered (nats.js would wait 5 s). */
const READ_TIMEOUT = 2_000;

/**
 * A lease in a one-message-per-subject stream, changed only by compare-and-set on the subject's
 * last sequence: of two processes writing from the same version, one fails.
 *
 * @param names the derived names
 * @param js runs JetStream calls
 * @param owner this process's unique name
 * @param ttl how long a lease lasts without renewal, ms
 * @param now the clock
 * @returns the lease
 */
export function createLease(names: Names, js: WithJs, owner: string, ttl: number, now: () => number): Lease {
  const subject = leaseSubject(names);
  let seq = 0; // the version this process wrote last, 0 when it does not hold the lease
  let othersUntil = 0;

  const write = async (expected: number, cursor: number, until: number): Promise<boolean> => {
    const state: LeaseState = { owner, until, cursor };
    try {
      const ack = await js((client) =>
        client.publish(subject, encoder.encode(JSON.stringify(state)), {
          expect: { lastSubjectSequence: expected },
          // A lease write answered later than the lease lasts is of no use; on a cluster, one sent
          // to a leader that just died is never answered, and the next round tries the new one.
          timeout: ttl,
        })
      );
      seq = ack.seq;
      return true;
    } catch (error) {
      if (!hasApiCode(error, WRONG_LAST_SEQUENCE)) throw error;
      seq = 0;
      return false;
    }
  };

  return {
    async acquire(initialCursor) {
      const msg = await js((_, jsm) =>
        atMost(jsm.streams.getMessage(names.metaStream, { last_by_subj: subject }), READ_TIMEOUT)
      );
      const state = msg?.json<LeaseState>();
      const mine = state?.owner === owner && msg!.seq === seq;
      if (state && !mine && state.until > now()) {
        seq = 0;
        othersUntil = state.until;
        return undefined;
      }
      othersUntil = 0;
      const cursor = state?.cursor ?? await initialCursor();
      return await write(msg?.seq ?? 0, cursor, now() + ttl) ? cursor : undefined;
    },
    async save(cursor) {
      if (seq === 0) return false;
      return await write(seq, cursor, now() + ttl);
    },
    async release() {
      if (seq === 0) return;
      const msg = await js((_, jsm) => jsm.streams.getMessage(names.metaStream, { last_by_subj: subject }));
      const state = msg?.json<LeaseState>();
      if (state && msg!.seq === seq) await write(seq, state.cursor, 0);
      seq = 0;
    },
    expires: () => othersUntil,
  };
}
