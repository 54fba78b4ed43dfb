import type { After } from "./after.ts";
import type { Driver, EventRecord, ListQuery, Page } from "./driver.ts";
import type { RetryPolicy } from "./retry.ts";
import type { ScheduleDeclared, Schedules } from "./schedule_api.ts";
import type { ScheduleOptions } from "./schedules.ts";
import type { StandardSchemaV1 } from "./schema.ts";

/** The event a handler receives. */
export interface Event<Body = unknown> {
  /** Unique, time-sortable, or the publisher's idempotency key. */
  readonly id: string;
  /** The event name. */
  readonly name: string;
  /** The body the publisher sent, after a JSON round trip. */
  readonly body: Body;
  /** When it was published, epoch ms. */
  readonly time: number;
  /** The delay asked for, ms. */
  readonly delay: number;
  /** Which attempt this is, from 1. */
  readonly attempt: number;
  /** Shared down a chain of events. */
  readonly correlationId: string;
  /** The event whose handler published this one. */
  readonly causationId?: string;
  /** Where the event came from, when the publisher said. */
  readonly origin?: string;
}

/** Options of one publish. */
export interface PublishOptions {
  /** When to deliver: ms, an epoch in ms, an ISO-8601 UTC string, a `Date`, or `"1 day"`. */
  readonly after?: After;
  /** The idempotency key: the same id within the dedup window is delivered once. */
  readonly id?: string;
  /** Ties this event to others; defaults to the causing event's, or this event's id. */
  readonly correlationId?: string;
  /** Where the event came from, for the record. */
  readonly origin?: string;
}

/** One event of a batch publish. */
export interface PublishItem extends PublishOptions {
  /** The event name. */
  readonly name: string;
  /** The body, any JSON value. */
  readonly body?: unknown;
}

/** The publish forms shared by the bus and a handler's context. */
export interface Publisher {
  /** Publishes now; resolves to the event id. */
  publish(name: string, body?: unknown): Promise<string>;
  /** Publishes with options (Ampt's order); resolves to the event id. */
  publish(name: string, options: PublishOptions, body: unknown): Promise<string>;
}

/** What a handler receives beside the event. */
export interface HandlerContext extends Publisher {
  /** Aborted when the handler times out and when the bus shuts down. */
  readonly signal: AbortSignal;
  /** Gives this run a new timeout, counted from now, in ms. */
  setTimeout(ms: number): void;
}

/** A function that handles events. */
export type Handler<Body = unknown> = (event: Event<Body>, ctx: HandlerContext) => unknown;

/** Options of one handler. */
export interface HandlerOptions {
  /** A stable id for the record; defaults to `<pattern>#<n>` (n-th handler of that pattern). */
  readonly id?: string;
  /** ms before the run counts as failed. @default {5000} (or the bus's `timeout`) */
  readonly timeout?: number;
  /** Changes to the bus's retry policy for this handler. */
  readonly retry?: Partial<RetryPolicy>;
}

/** Options of {@linkcode createBus}. */
export interface BusOptions {
  /** The transport. @default {memoryDriver()} */
  readonly driver?: Driver;
  /** The retry policy, in part or whole. @default {defaultRetry} */
  readonly retry?: Partial<RetryPolicy>;
  /** Default handler timeout, ms. @default {5000} */
  readonly timeout?: number;
  /**
   * Publishing an id again within this many ms delivers it once (the memory driver: while it
   * keeps the event's record, see its `maxFinished`). @default {86400000} (1 day)
   */
  readonly dedupWindow?: number;
  /** How long `stop()` lets handlers run before their signal aborts, ms. @default {10000} */
  readonly gracePeriod?: number;
  /** At most this many messages of one `handleBatch` run at once. @default {10} */
  readonly batchConcurrency?: number;
  /** Standard Schema validators (zod, valibot, arktype...) by event name, checked at publish. */
  readonly schemas?: Readonly<Record<string, StandardSchemaV1>>;
  /** The clock, epoch ms. @default {Date.now} */
  readonly now?: () => number;
}

/** A message of a queue batch, for {@linkcode Bus.handleBatch}. */
export interface BatchMessage {
  /** The transport's id for the message, echoed in failures. */
  readonly id: string;
  /** The envelope, as an object or as JSON text. */
  readonly body: unknown;
  /** How many times the transport has delivered it, from 1. @default {1} */
  readonly attempts?: number;
}

/** A message of a batch to retry, and when. */
export interface BatchFailure {
  /** The transport's id for the message. */
  readonly id: string;
  /** When to deliver it again, epoch ms. */
  readonly retryAt: number;
  /** The same as a delay from now, ms (what `retry({ delaySeconds })` wants, in ms). */
  readonly delay: number;
  /** The envelope of the next attempt. */
  readonly envelope: import("./driver.ts").Envelope;
}

/** What {@linkcode Bus.handleBatch} found. */
export interface BatchResult {
  /** Messages to retry; acknowledge every other one. */
  readonly failures: BatchFailure[];
  /** Ids of messages that were not edgebus envelopes; they were not run. */
  readonly invalid: string[];
}

/** The dead letters of a bus. */
export interface DeadLetters {
  /** Dead events, newest first. */
  list(query?: Omit<ListQuery, "status">): Promise<Page<EventRecord>>;
  /** Runs a dead event again: only the handlers that failed, with fresh attempts. */
  replay(id: string): Promise<boolean>;
  /** Removes a dead event for good. */
  delete(id: string): Promise<boolean>;
}

/** Options of {@linkcode Bus.stop}. */
export interface StopOptions {
  /** Overrides the bus's `gracePeriod`, ms. */
  readonly gracePeriod?: number;
}

/** The bus `createBus` returns. */
export interface Bus extends Publisher {
  /** The driver the bus runs on (adapters such as `worker()` read it). */
  readonly driver: Driver;
  /** Adds a handler for a name or pattern. */
  on<Body = unknown>(pattern: string, handler: Handler<Body>): Bus;
  /** Adds a handler with options. */
  on<Body = unknown>(pattern: string, options: HandlerOptions, handler: Handler<Body>): Bus;
  /** Publishes several events, all or none; resolves to their ids in order. */
  publishBatch(items: readonly PublishItem[]): Promise<string[]>;
  /** Cancels a delayed event not yet delivered; true if it was. */
  cancel(id: string): Promise<boolean>;
  /** The record of an event, or `undefined`. */
  get(id: string): Promise<EventRecord | undefined>;
  /** Records newest first, filtered and paged. */
  list(query?: ListQuery): Promise<Page<EventRecord>>;
  /** The dead letters. */
  readonly deadLetters: DeadLetters;
  /**
   * Declares a schedule: every tick of `cron` (five fields, or six with seconds first) in
   * `options.tz` publishes `name` with `body`, as an event with id `<id>:<tick time>`, once
   * however many processes run. Declaring the same id with the same spec again changes nothing;
   * another spec replaces it.
   */
  schedule(
    id: string,
    cron: string,
    name: string,
    body?: unknown,
    options?: ScheduleOptions,
  ): Promise<ScheduleDeclared>;
  /** The schedules: list, get, pause, resume, delete. */
  readonly schedules: Schedules;
  /** Runs a batch received from a queue, each message on its own. */
  handleBatch(messages: readonly BatchMessage[]): Promise<BatchResult>;
  /** Starts a pull driver delivering. */
  start(): Promise<void>;
  /** Takes no new events, lets handlers finish (then aborts them), saves results, closes. */
  stop(options?: StopOptions): Promise<void>;
}
