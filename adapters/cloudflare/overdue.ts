import { type Envelope, envelopeOf, type EventRecord } from "../../driver/mod.ts";
import { encodeMessage, type Outgoing, QUEUE_LIMITS, sendAll } from "./message.ts";
import type { DurableObjectStorageLike, QueueBinding, WorkerEnv } from "./platform.ts";
import { compileRoutes, type Route } from "./routing.ts";

/**
 * What a records shard needs to re-send an overdue event: the driver's routes and default queue
 * (binding names), and how long past due a record waits before it counts as lost.
 */
export interface SweepConfig {
  /** The default Queue producer binding. */
  readonly queue: string;
  /** The driver's routes, first match wins. */
  readonly routes: readonly Route[];
  /** How long past its due time, and since its last update, a record waits before it is re-sent, ms. */
  readonly after: number;
}

/** The statuses of events that should still reach a consumer. */
export const OPEN_STATUSES: readonly string[] = ["scheduled", "pending", "retrying"];
const OPEN = OPEN_STATUSES.map((s) => `'${s}'`).join(", ");
/** Records re-sent per round; an alarm runs a few rounds, then comes back. */
const ROUND = 100;
const ROUNDS = 5;

/**
 * Records that should have reached a consumer more than `after` ms ago and did not change
 * since: their message was lost (Queues' delayed messages in `wrangler dev` do not survive a
 * restart) or is stuck.
 *
 * @param storage the shard's storage
 * @param cutoff now minus the grace period, epoch ms
 * @param limit at most this many
 * @returns the records, earliest due first
 */
export function overdueRecords(storage: DurableObjectStorageLike, cutoff: number, limit: number): EventRecord[] {
  return storage.sql.exec(
    `SELECT data FROM records WHERE status IN (${OPEN}) AND due < ? AND updated < ? ORDER BY due LIMIT ?`,
    cutoff,
    cutoff,
    limit,
  ).toArray().map((row) => JSON.parse(row.data as string) as EventRecord);
}

/**
 * When the sweep should look again: when the earliest open record falls overdue, or, for open
 * records already past due but recently updated (under way, or just re-sent), `after` from now.
 *
 * @param storage the shard's storage
 * @param now the current time
 * @param after the grace period, ms
 * @returns epoch ms, or undefined when no record is open
 */
export function nextSweep(storage: DurableObjectStorageLike, now: number, after: number): number | undefined {
  // One MIN per status, each answered from the (status, due) index.
  const [row] = storage.sql.exec(
    `SELECT MIN(m) AS due FROM (${
      OPEN_STATUSES.map((s) => `SELECT MIN(due) AS m FROM records WHERE status = '${s}'`).join(" UNION ALL ")
    })`,
  ).toArray();
  const earliest = row?.due as number | null | undefined;
  if (earliest === null || earliest === undefined) return undefined;
  // One ms past the boundary: a record counts as overdue only strictly after it.
  return Math.max(earliest + after, now + Math.min(after, 60_000)) + 1;
}

/** The envelope to deliver again: the record's, as the attempt after the last one made. */
function nextDelivery(record: EventRecord): Envelope {
  return { ...envelopeOf(record), attempt: record.attempt + 1 };
}

/**
 * Re-sends one round of overdue records to their queues, with attempt one past the last one
 * made, and stamps each record's `updatedAt` so that it is not re-sent before another grace
 * period passes. A body too large for a message is stored in this shard (where the consumer
 * looks for it, since bodies and records are sharded alike) and a stand-in is sent.
 *
 * @param storage the shard's storage
 * @param env the Worker's environment, which holds the Queue producers
 * @param config the routes and the grace period
 * @param now the current time
 * @returns true when a full round was sent (there may be more)
 */
export async function resendOverdue(
  storage: DurableObjectStorageLike,
  env: WorkerEnv,
  config: SweepConfig,
  now: number,
): Promise<boolean> {
  const records = overdueRecords(storage, now - config.after, ROUND);
  const route = compileRoutes(config.routes, config.queue);
  const byQueue = new Map<string, { record: EventRecord; out: Outgoing }[]>();
  for (const record of records) {
    const envelope = nextDelivery(record);
    const { body, bytes, stored } = encodeMessage(envelope, QUEUE_LIMITS.messageBytes);
    if (stored !== undefined) {
      storage.sql.exec(
        "INSERT OR REPLACE INTO bodies (id, envelope, created) VALUES (?, ?, ?)",
        record.id,
        stored,
        now,
      );
    }
    const queue = route(record.name);
    byQueue.set(queue, [...(byQueue.get(queue) ?? []), { record, out: { body, bytes, delaySeconds: 0 } }]);
  }
  for (const [name, group] of byQueue) {
    const queue = env[name] as QueueBinding | undefined;
    if (typeof queue?.sendBatch !== "function") throw new Error(`The Queue producer binding "${name}" is missing`);
    await sendAll(queue, group.map((g) => g.out));
    storage.transactionSync(() => {
      for (const { record } of group) {
        // Only a record unchanged while the batch was in flight: a consumer may have settled it.
        storage.sql.exec(
          `UPDATE records SET updated = ?1, data = json_set(data, '$.updatedAt', ?1)
           WHERE id = ?2 AND updated = ?3`,
          now,
          record.id,
          record.updatedAt,
        );
      }
    });
  }
  return records.length === ROUND;
}

/** Runs rounds of {@linkcode resendOverdue}; true when there may be more. */
export async function sweepOverdue(
  storage: DurableObjectStorageLike,
  env: WorkerEnv,
  config: SweepConfig,
  now: number,
): Promise<boolean> {
  for (let round = 0; round < ROUNDS; round++) {
    if (!await resendOverdue(storage, env, config, now)) return false;
  }
  return true;
}
