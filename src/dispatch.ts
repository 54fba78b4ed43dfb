import { parseAfter } from "./after.ts";
import { MAX_PUBLISHED } from "./driver.ts";
import type {
  Dispatch,
  Envelope,
  EventRecord,
  HandlerInfo,
  HandlerRegistry,
  HandlerResult,
  HandlerRunner,
  Outcome,
  RecordStore,
} from "./driver.ts";
import { toRecord } from "./envelope.ts";
import { NonRetriableError, RetryAfterError } from "./errors.ts";
import { canRetry, nextDelay, type RetryPolicy } from "./retry.ts";
import { compilePattern } from "./patterns.ts";
import { isFinal } from "./statuses.ts";
import { promised } from "./transport.ts";
import { runHandler, type RunResult, type Shutdown } from "./run_handler.ts";
import type { Event, Handler, Publisher } from "./types.ts";

/** Told of each handler added with `bus.on`. */
export type HandlerListener = (handler: HandlerInfo) => void;

/** A handler as the bus keeps it. */
export interface Registered {
  readonly id: string;
  readonly pattern: string;
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
  /** The application's handlers across processes, when the driver knows them. */
  readonly registry?: HandlerRegistry;
  /** Listeners told of handlers added later. */
  readonly added?: Set<HandlerListener>;
  /** How long an event waits before it is offered again to a process that has a handler this one lacks, ms. */
  readonly handOff?: number;
}

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
function save(store: RecordStore, record: EventRecord, tries = 7): Promise<void> {
  // The first write without an async function's frame: it nearly always succeeds.
  return promised(() => store.put(record)).then(undefined, (error: unknown) => saveAgain(store, record, error, tries));
}

async function saveAgain(store: RecordStore, record: EventRecord, error: unknown, tries: number): Promise<void> {
  for (let i = 1;; i++) {
    if (i >= tries) throw error;
    await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** i));
    try {
      return await store.put(record);
    } catch (again) {
      error = again;
    }
  }
}

/**
 * Runs one handler once and says what became of it: `done`, `failed` with the time of its next
 * attempt, or `dead` when it is out of attempts or threw a `NonRetriableError`.
 */
export async function runOne(
  deps: DispatchDeps,
  h: Registered,
  envelope: Envelope,
  previous: HandlerResult | undefined,
): Promise<HandlerResult> {
  return (await attempt(deps, h, envelope, previous)).result;
}

function attempt(
  deps: DispatchDeps,
  h: Registered,
  envelope: Envelope,
  previous: HandlerResult | undefined,
): Promise<Attempt> {
  const event = toEvent(envelope);
  // The ids of events the handler published, after those of earlier attempts: made only when it
  // publishes (most handlers never do).
  let published: string[] | undefined;
  return runHandler({
    handlerId: h.id,
    handler: h.handler,
    event,
    timeout: h.timeout,
    publisher: () => recording(deps.publisherFor(event), published ??= [...(previous?.published ?? [])]),
    shutdown: deps.shutdown,
  }).then((result) => settle(deps, h, envelope, previous, result, published));
}

/** What one run of a handler comes to: its result, and whether it ends the event. */
interface Attempt {
  readonly result: HandlerResult;
  readonly nonRetriable: boolean;
}

function settle(
  deps: DispatchDeps,
  h: Registered,
  envelope: Envelope,
  previous: HandlerResult | undefined,
  result: RunResult,
  published: string[] | undefined,
): Attempt {
  const finishedAt = deps.now();
  const attempts = (previous?.attempts ?? 0) + 1;
  const ids = published ?? previous?.published;
  const links = ids !== undefined && ids.length > 0 ? { published: ids } : undefined;
  if (result.ok) {
    const done: HandlerResult = links
      ? { status: "done", attempts, finishedAt, ...links }
      : { status: "done", attempts, finishedAt };
    return { result: done, nonRetriable: false };
  }
  const error = describeError(result.error);
  const nextAt = finishedAt + retryDelay(result.error, attempts, h.retry, finishedAt);
  const nonRetriable = result.error instanceof NonRetriableError;
  const retriable = !nonRetriable && canRetry(attempts, nextAt, envelope.time + envelope.delay, h.retry);
  return {
    result: retriable
      ? { status: "failed", attempts, error, finishedAt, nextAt, ...links }
      : { status: "dead", attempts, error, finishedAt, ...links },
    nonRetriable,
  };
}

/**
 * A publisher that notes the id of each event it publishes (up to `MAX_PUBLISHED`), so that the
 * handler's result links its event to the events it caused.
 */
function recording(publisher: Publisher, ids: string[]): Publisher {
  return {
    publish: (...args: Parameters<Publisher["publish"]>) =>
      (publisher.publish as (...a: unknown[]) => Promise<string>)(...args).then((id) => {
        if (ids.length < MAX_PUBLISHED && !ids.includes(id)) ids.push(id);
        return id;
      }),
  } as Publisher;
}

/**
 * The bus's handlers one at a time, for drivers that deliver per handler.
 *
 * @param deps the handlers, the clock and the shutdown signal
 * @returns the runner
 */
export function createRunner(deps: DispatchDeps): HandlerRunner {
  return {
    get handlers(): HandlerInfo[] {
      return deps.handlers.map(({ id, pattern }) => ({ id, pattern }));
    },
    async run(envelope, handlerId, previous) {
      const h = deps.handlers.find((r) => r.id === handlerId);
      if (!h) {
        const error = { name: "EdgebusError", message: `No handler "${handlerId}" in this process` };
        return { status: "failed", attempts: previous?.attempts ?? 0, error, nextAt: deps.now() + 1_000 };
      }
      return await runOne(deps, h, envelope, previous);
    },
    onAdd(listener) {
      deps.added?.add(listener);
    },
  };
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
function runDue(deps: DispatchDeps, envelope: Envelope, record: EventRecord, due: Registered[]): Promise<Run> {
  if (due.length !== 1) return runInTurn(deps, envelope, record, due);
  // One handler (the usual case): nothing to save between handlers.
  const h = due[0];
  return attempt(deps, h, envelope, record.handlers[h.id]).then((run) => ({
    results: { ...record.handlers, [h.id]: run.result },
    nonRetriable: run.nonRetriable,
  }));
}

async function runInTurn(deps: DispatchDeps, envelope: Envelope, record: EventRecord, due: Registered[]): Promise<Run> {
  const { store } = deps;
  const results: Record<string, HandlerResult> = { ...record.handlers };
  let nonRetriable = false;
  for (let i = 0; i < due.length; i++) {
    const h = due[i];
    const run = await attempt(deps, h, envelope, results[h.id]);
    const result = run.result;
    nonRetriable ||= run.nonRetriable;
    // After a NonRetriableError the event is dead: a later handler's failure is not retried.
    results[h.id] = nonRetriable && result.status === "failed"
      ? {
        status: "dead",
        attempts: result.attempts,
        error: result.error,
        finishedAt: result.finishedAt,
        ...(result.published ? { published: result.published } : {}),
      }
      : result;
    if (result.status === "done" && i < due.length - 1) {
      await save(store, { ...record, status: "pending", handlers: results, updatedAt: result.finishedAt! });
    }
  }
  return { results, nonRetriable };
}

/** Handlers another process has for this event, that this one lacks and that have not finished it. */
async function missingElsewhere(
  deps: DispatchDeps,
  name: string,
  results: Readonly<Record<string, HandlerResult>>,
): Promise<HandlerInfo[]> {
  if (!deps.registry) return [];
  const local = new Set(deps.handlers.map((h) => h.id));
  const known = await deps.registry.known();
  return known.filter((h) =>
    !local.has(h.id) && results[h.id]?.status !== "done" && results[h.id]?.status !== "dead" &&
    compileMatcher(h.pattern)(name)
  );
}

const matchers = new Map<string, (name: string) => boolean>();
function compileMatcher(pattern: string): (name: string) => boolean {
  let m = matchers.get(pattern);
  if (!m) {
    try {
      m = compilePattern(pattern);
    } catch {
      m = () => false;
    }
    if (matchers.size > 1_000) matchers.clear();
    matchers.set(pattern, m);
  }
  return m;
}

/**
 * Makes the bus's dispatch function: it runs an envelope's due handlers in registration order,
 * records each handler's result, and answers done, retry at a time, or dead.
 *
 * @param deps the store, the handlers, the clock and the shutdown signal
 * @returns the dispatch function drivers call
 */
export function createDispatch(deps: DispatchDeps): Dispatch {
  const { store, handlers, now, handOff = 5_000 } = deps;
  // The handlers of each name, made again when a handler is added (handlers are never removed).
  const byName = new Map<string, Registered[]>();
  let known = handlers.length;
  const matchingOf = (name: string): Registered[] => {
    if (known !== handlers.length) {
      byName.clear();
      known = handlers.length;
    }
    let matching = byName.get(name);
    if (!matching) {
      matching = handlers.filter((h) => h.matches(name));
      if (byName.size >= 10_000) byName.clear();
      byName.set(name, matching);
    }
    return matching;
  };
  const none: HandlerInfo[] = [];
  return async (envelope: Envelope): Promise<Outcome> => {
    const existing = await store.get(envelope.id);
    if (existing && isFinal(existing.status)) return DONE;
    const record: EventRecord = existing ??
      toRecord(envelope, "pending", 0, {}, now());
    const matching = matchingOf(envelope.name);
    const elsewhere = deps.registry ? await missingElsewhere(deps, envelope.name, record.handlers) : none;
    const started = now();
    if (matching.length === 0 && elsewhere.length === 0) {
      await save(store, { ...record, status: "done", attempt: envelope.attempt, noHandler: true, updatedAt: started });
      return DONE;
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
    let outcome = decide(matching, results, nonRetriable);
    let at = outcome === "retry" ? Math.min(...matching.map((h) => results[h.id]?.nextAt ?? Infinity)) : undefined;
    if (elsewhere.length > 0 && outcome !== "dead") {
      // Another process has a handler this one lacks: offer the event again rather than settle it.
      // 5 s, doubling with each hand-back up to about 5 minutes: a handler removed from every
      // version is waited for until the registry forgets it, without a message every 5 s.
      const handBack = now() + handOff * 2 ** Math.min(Math.max(0, envelope.attempt - 1), 6);
      at = outcome === "retry" ? Math.min(at!, handBack) : handBack;
      if (outcome === "done") outcome = "retry";
    }
    const failed = matching.some((h) => results[h.id]?.status === "failed");
    const status = outcome === "retry" ? (failed ? "retrying" : "pending") : outcome;
    await save(store, toRecord(record, status, envelope.attempt, results, now(), at));
    if (at === undefined) return outcome === "dead" ? DEAD : DONE;
    return { status: "retry", at, envelope: { ...envelope, attempt: envelope.attempt + 1, due: at } };
  };
}

const DONE: Outcome = { status: "done" };
const DEAD: Outcome = { status: "dead" };

function decide(
  matching: readonly Registered[],
  results: Record<string, HandlerResult>,
  nonRetriable: boolean,
): "done" | "retry" | "dead" {
  if (nonRetriable) return "dead";
  let dead = false;
  for (const h of matching) {
    const status = results[h.id]?.status;
    if (status === "failed") return "retry";
    dead ||= status === "dead";
  }
  return dead ? "dead" : "done";
}
