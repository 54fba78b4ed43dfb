import type { Envelope, EventRecord, EventStatus, HandlerResult } from "../../driver/mod.ts";
import type { EventOutcome } from "./outcome.ts";
import type { KnownHandler } from "./registry.ts";

/** What JetStream holds of one event, read in one round of lookups. */
export interface EventParts {
  /** The event in its stream (published now, or moved when due), and when it was stored. */
  readonly event?: { readonly envelope: Envelope; readonly stored: number };
  /** The first version of a delayed event. */
  readonly delayed?: Envelope;
  /** Handler results and cancellation. */
  readonly outcome?: EventOutcome;
  /** The dead letter, when the event died. */
  readonly dead?: EventRecord;
}

function statusOf(statuses: readonly (HandlerResult["status"] | undefined)[]): EventStatus {
  if (statuses.includes("failed")) return "retrying";
  if (statuses.includes(undefined)) return "pending";
  return statuses.includes("dead") ? "dead" : "done";
}

/**
 * The record of an event, put together from its parts: the status comes from the results of
 * the handlers that take the event (those whose consumers existed when it reached its stream),
 * so every process sees the same, whichever handlers it has itself.
 *
 * @param parts what was read
 * @param known the application's handlers on the event's stream
 * @param now the clock
 * @returns the record, or `undefined` when nothing of the event is kept
 */
export function buildRecord(parts: EventParts, known: readonly KnownHandler[], now: number): EventRecord | undefined {
  const { event, delayed, outcome, dead } = parts;
  const envelope: Envelope | undefined = event?.envelope ?? delayed ?? dead ?? outcome?.envelope;
  if (!envelope) return undefined;
  const { id, name, body, time, delay, correlationId, causationId, origin } = envelope;
  const handlers: Record<string, HandlerResult> = { ...dead?.handlers, ...outcome?.handlers };
  const keys = new Set(Object.keys(handlers));
  for (const h of known) if (h.matches(name) && (!event || h.since <= event.stored)) keys.add(h.key);
  for (const key of outcome?.replayed ?? []) keys.add(key);
  const results = [...keys].map((k) => handlers[k]);
  const attempt = Math.max(0, ...results.map((r) => r?.attempts ?? 0));
  const updatedAt = Math.max(time, outcome?.cancelled ?? 0, ...results.map((r) => r?.finishedAt ?? 0));
  const first = time + delay;
  let status: EventStatus;
  let due = first;
  let noHandler: true | undefined;
  if (outcome?.cancelled !== undefined) status = "cancelled";
  else if (outcome?.started === undefined && results.every((r) => r === undefined) && first > now && delay > 0) {
    status = "scheduled";
  } else if (!event && delayed) status = "pending";
  else if (keys.size === 0) (status = "done"), (noHandler = true);
  else {
    status = statusOf(results.map((r) => r?.status));
    if (status === "retrying") due = Math.min(...results.map((r) => r?.nextAt ?? Infinity));
  }
  const record: EventRecord = {
    id,
    name,
    body,
    time,
    delay,
    due,
    attempt,
    correlationId,
    causationId,
    origin,
    status,
    handlers,
    updatedAt,
  };
  return noHandler ? { ...record, noHandler } : record;
}
