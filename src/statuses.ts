import type { EventStatus } from "./driver.ts";

/** Every status an event can have, in the order an event passes through them. */
export const EVENT_STATUSES: readonly EventStatus[] = ["scheduled", "pending", "retrying", "done", "dead", "cancelled"];

/** Statuses after which nothing more happens to an event (short of a replay). */
export const FINAL_STATUSES: ReadonlySet<EventStatus> = new Set<EventStatus>(["done", "dead", "cancelled"]);

/**
 * Whether a status is final: done, dead or cancelled.
 *
 * @param status the status
 * @returns true when nothing more happens to the event
 */
export function isFinal(status: EventStatus): boolean {
  return FINAL_STATUSES.has(status);
}
