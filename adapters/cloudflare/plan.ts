import type { Envelope } from "../../driver/mod.ts";
import { encodeMessage, type Outgoing, QUEUE_LIMITS } from "./message.ts";
import type { ScheduledRow } from "./scheduler_object.ts";

/** Where each envelope of a send goes. */
export interface Plan {
  /** Envelopes too large for a message: their JSON, by event id, to store first. */
  readonly stored: (readonly [id: string, envelope: string])[];
  /** Messages for Queues, by producer binding, with whole-second delays. */
  readonly queued: Map<string, Outgoing[]>;
  /** Rows for the scheduler objects: delays longer than Queues may hold. */
  readonly delayed: ScheduledRow[];
}

/**
 * Decides, for each envelope, its queue, whether its body must be stored, and whether Queues'
 * `delaySeconds` can hold its delay (rounded up to whole seconds, so that it never arrives
 * early) or the scheduler must.
 *
 * @param envelopes the envelopes
 * @param at the current time, epoch ms
 * @param route the producer binding for an event name
 * @param maxQueueDelay the longest delay left to Queues, whole seconds
 * @returns the plan
 */
export function planDelivery(
  envelopes: readonly Envelope[],
  at: number,
  route: (name: string) => string,
  maxQueueDelay: number,
): Plan {
  const plan: Plan = { stored: [], queued: new Map(), delayed: [] };
  for (const envelope of envelopes) {
    const { body, bytes, stored } = encodeMessage(envelope, QUEUE_LIMITS.messageBytes);
    if (stored !== undefined) plan.stored.push([envelope.id, stored]);
    const queue = route(envelope.name);
    const wait = envelope.due - at;
    if (wait > maxQueueDelay * 1000) {
      plan.delayed.push({ id: envelope.id, due: envelope.due, queue, message: JSON.stringify(body), bytes });
      continue;
    }
    const list = plan.queued.get(queue) ?? [];
    list.push({ body, bytes, delaySeconds: wait > 0 ? Math.ceil(wait / 1000) : 0 });
    plan.queued.set(queue, list);
  }
  return plan;
}
