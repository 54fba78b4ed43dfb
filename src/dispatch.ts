import { parseAfter } from "./after.ts";
import type { Dispatch, Envelope, EventRecord, HandlerResult, Outcome, RecordStore } from "./driver.ts";
import { toRecord } from "./envelope.ts";
import { NonRetriableError, RetryAfterError } from "./errors.ts";
import { canRetry, nextDelay, type RetryPolicy } from "./retry.ts";
import { runHandler, type Shutdown } from "./run_handler.ts";
import type { Event, Handler, Publisher } from "./types.ts";

/** A handler as the bus keeps it. */
export interface Registered {
  readonly id: string;
  readonly matches: (name: string) => boolean;
  readonly handler: Handler;
  readonly timeout: number;
  readonly retry: RetryPolicy;
}

/** What dispatching needs from the bus. */
export interface DispatchDeps {
  readonly store: RecordStore;
  readonly handlers: readonly Registered[];
  readonly now: () => number;
  readonly shutdown: Shutdown;
  /** A publisher whose events are caused by `event`. */
  readonly publisherFor: (event: Event) => Publisher;
}

const FINAL = new Set(["done", "dead", "cancelled"]);

function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

function retryDelay(error: unknown, attempts: number, policy: RetryPolicy, now: number): number {
  if (error instanceof RetryAfterError) {
    try {
      return parseAfter(error.after, now) - now;
    } catch {
      // An unreadable `after` falls back to the policy rather than losing the event.
    }
  }
  return nextDelay(attempts, policy);
}

function toEvent(envelope: Envelope): Event {
  const { id, name, body, time, delay, attempt, correlationId, causationId, origin } = envelope;
  return { id, name, body, time, delay, attempt, correlationId, causationId, origin };
}

/** The handlers that should run in this delivery: new ones, and failed ones now due. */
function dueHandlers(
  matching: readonly Registered[],
  results: Readonly<Record<string, HandlerResult>>,
  now: number,
): Registered[] {
  return matching.filter((h) => {
    const result = results[h.id];
    return !result || (result.status === "failed" && (result.nextAt ?? 0) <= now);
  });
}

/** Saves a record, trying again briefly so that a short store outage does not re-run handlers. */
async function save(store: RecordStore, record: EventRecord, tries = 7): Promise<void> {
  for (let i = 1;; i++) {
    try {
      return await store.put(record);
    } catch (error) {
      if (i >= tries) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** i));
    }
  }
}

/** What one delivery's handlers did. */
interface Run {
  readonly results: Record<string, HandlerResult>;
  readonly nonRetriable: boolean;
}

/**
 * Runs the due handlers in order. When several run, each success is saved before the next
 * starts, so a crash part-way never re-runs a handler that already succeeded.
 */
async function runDue(deps: DispatchDeps, envelope: Envelope, record: EventRecord, due: Registered[]): Promise<Run> {
  const { store, now, shutdown, publisherFor } = deps;
  const results: Record<string, HandlerResult> = { ...record.handlers };
  const event = toEvent(envelope);
  const firstDue = record.time + record.delay;
  let nonRetriable = false;
  for (const [i, h] of due.entries()) {
    const result = await runHandler({
      handlerId: h.id,
      handler: h.handler,
      event,
      timeout: h.timeout,
      publisher: publisherFor(event),
      shutdown,
    });
    const finishedAt = now();
    const attempts = (results[h.id]?.attempts ?? 0) + 1;
    if (result.ok) {
      results[h.id] = { status: "done", attempts, finishedAt };
      if (i < due.length - 1) {
        await save(store, { ...record, status: "pending", handlers: results, updatedAt: finishedAt });
      }
      continue;
    }
    const error = describeError(result.error);
    const nextAt = finishedAt + retryDelay(result.error, attempts, h.retry, finishedAt);
    nonRetriable ||= result.error instanceof NonRetriableError;
    const retriable = !nonRetriable && canRetry(attempts, nextAt, firstDue, h.retry);
    results[h.id] = retriable
      ? { status: "failed", attempts, error, finishedAt, nextAt }
      : { status: "dead", attempts, error, finishedAt };
  }
  return { results, nonRetriable };
}

/**
 * Makes the bus's dispatch function: it runs an envelope's due handlers in registration order,
 * records each handler's result, and answers done, retry at a time, or dead.
 *
 * @param deps the store, the handlers, the clock and the shutdown signal
 * @returns the dispatch function drivers call
 */
export function createDispatch(deps: DispatchDeps): Dispatch {
  const { store, handlers, now } = deps;
  return async (envelope: Envelope): Promise<Outcome> => {
    const existing = await store.get(envelope.id);
    if (existing && FINAL.has(existing.status)) return { status: "done" };
    const record: EventRecord = existing ??
      toRecord(envelope, "pending", 0, {}, now());
    const matching = handlers.filter((h) => h.matches(envelope.name));
    const started = now();
    if (matching.length === 0) {
      await save(store, { ...record, status: "done", attempt: envelope.attempt, noHandler: true, updatedAt: started });
      return { status: "done" };
    }
    if (record.status !== "pending") {
      // A delayed or retried event shows as under way while it runs, and can no longer be cancelled.
      await store.put({ ...record, status: "pending", updatedAt: started });
    }
    const { results, nonRetriable } = await runDue(
      deps,
      envelope,
      record,
      dueHandlers(matching, record.handlers, started),
    );
    const outcome = decide(matching, results, nonRetriable);
    const at = outcome === "retry" ? Math.min(...matching.map((h) => results[h.id]?.nextAt ?? Infinity)) : undefined;
    const status = outcome === "retry" ? "retrying" : outcome;
    await save(store, toRecord(record, status, envelope.attempt, results, now(), at));
    if (at === undefined) return { status: outcome === "dead" ? "dead" : "done" };
    return { status: "retry", at, envelope: { ...envelope, attempt: envelope.attempt + 1, due: at } };
  };
}

function decide(
  matching: readonly Registered[],
  results: Record<string, HandlerResult>,
  nonRetriable: boolean,
): "done" | "retry" | "dead" {
  const statuses = matching.map((h) => results[h.id]?.status);
  if (nonRetriable) return "dead";
  if (statuses.includes("failed")) return "retry";
  return statuses.includes("dead") ? "dead" : "done";
}
