import type { Json } from "./json.ts";
import type { FireTicks } from "./schedule_fire.ts";
import type { Schedule, ScheduleQuery } from "./schedules.ts";

/**
 * An event as it travels: what a driver stores and sends. `due` is when it should be
 * delivered (epoch ms); `attempt` is the attempt it will be, from 1.
 */
export interface Envelope {
  /** Unique, time-sortable, or the publisher's idempotency key. */
  readonly id: string;
  /** The event name, such as `user.joined`. */
  readonly name: string;
  /** The body, as JSON. */
  readonly body: Json;
  /** When it was published, epoch ms. */
  readonly time: number;
  /** The delay asked for, ms. */
  readonly delay: number;
  /** When it is due, epoch ms. */
  readonly due: number;
  /** Which attempt this delivery is, from 1. */
  readonly attempt: number;
  /** Shared by an event and every event its handlers publish, down the chain. */
  readonly correlationId: string;
  /** The event whose handler published this one. */
  readonly causationId?: string;
  /** Where it came from (`http`, a service name), when the publisher said. */
  readonly origin?: string;
}

/** Where an event stands. */
export type EventStatus = "scheduled" | "pending" | "retrying" | "done" | "dead" | "cancelled";

/** What one handler did with an event, over all its attempts. */
export interface HandlerResult {
  /** `done`, `failed` (will run again), `dead` (out of attempts or non-retriable). */
  readonly status: "done" | "failed" | "dead";
  /** How many times this handler ran for this event. */
  readonly attempts: number;
  /** The last error, when it failed. */
  readonly error?: { readonly name: string; readonly message: string };
  /** When it last finished, epoch ms. */
  readonly finishedAt?: number;
  /** When this handler is due again, after a failure. */
  readonly nextAt?: number;
  /**
   * Ids of the events this handler published through `ctx.publish`, over all its attempts (at
   * most {@linkcode MAX_PUBLISHED}): the links of the causation chain a store can follow.
   */
  readonly published?: readonly string[];
}

/** How many published ids a handler's result keeps. */
export const MAX_PUBLISHED = 100;

/** The record of one event: the envelope, its status and every handler's result. */
export interface EventRecord extends Envelope {
  /** Where the event stands. */
  readonly status: EventStatus;
  /** Results by handler id. */
  readonly handlers: Readonly<Record<string, HandlerResult>>;
  /** When the record last changed, epoch ms. */
  readonly updatedAt: number;
  /** True when the event was delivered and no handler matched its name. */
  readonly noHandler?: boolean;
  /**
   * Set when a listing cut the body (see {@linkcode ListQuery.bodyLimit}): the length of the
   * whole body as JSON text. `body` then holds its first `bodyLimit` characters as a string
   * (`null` when `bodyLimit` is 0); `get` always answers the whole body.
   */
  readonly bodyCut?: number;
}

/** Which records to list. */
export interface ListQuery {
  /** Only records with this status. */
  readonly status?: EventStatus;
  /** Only names matching this name or pattern (`user.*`, `billing.>`). */
  readonly name?: string;
  /** At most this many (1 to 1000). @default {50} */
  readonly limit?: number;
  /** Where the previous page ended. */
  readonly cursor?: string;
  /** Only records of this correlation id: an event and every event down its causation chain. */
  readonly correlationId?: string;
  /**
   * Cuts bodies whose JSON text is longer than this many characters (0 leaves every body out),
   * so that a page stays small; each cut record says so in `bodyCut`. @default {undefined} (whole bodies)
   */
  readonly bodyLimit?: number;
}

/** How many records of each status a store holds, for the statuses it can count cheaply. */
export type StatusCounts = Partial<Record<EventStatus, number>>;

/** A page of results, newest first, and where the next page starts. */
export interface Page<T> {
  /** The results on this page. */
  readonly items: T[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  readonly cursor?: string;
}

/**
 * Where a driver keeps records and dead letters.
 *
 * Rules every store keeps (the conformance suite in `edgebus/testing` checks them):
 *
 * - **`create` is atomic per id, across processes.** Of two creates of one id racing in two
 *   processes, exactly one answers true. It answers false for an id whose record was published
 *   (its `time`) at or after `dedupSince`; an older record of the same id is replaced (the id is
 *   published anew). This is how the bus deduplicates by idempotency key.
 * - **Retention.** Finished records (`done`, `cancelled`) may be forgotten once a retention
 *   period has passed since their last update; dead letters (`dead`) stay until deleted;
 *   unfinished records stay until they finish.
 * - **`list` order and paging.** Newest first, by publish time, then by the larger id
 *   (`newerFirst` in `edgebus/driver`). `limit` defaults to 50 (the bus has checked it
 *   is 1 to 1000). A page that is followed by more records carries `cursor`, made by
 *   `encodeCursor` from its last record and read back by `decodeCursor`, so cursors look the same
 *   on every driver; the last page carries none. `name` is a name or pattern as `compilePattern`
 *   reads it.
 * - **`correlationId`** lists the records whose `correlationId` is that id: the event of that id
 *   (if any) and every event published down its chain (`ctx.publish` keeps the correlation id),
 *   or with that `correlationId` given explicitly. It pages like any listing. A store should find
 *   them without scanning every record (an index, or links from each event to what its
 *   handlers published: {@linkcode HandlerResult.published}).
 * - **`bodyLimit`** may be applied by the store (saving the transfer of large bodies); the bus
 *   applies it to whatever the store answers, so a store may also ignore it.
 * - **`count`**, when present, answers per status how many records the store holds, for the
 *   statuses it can count without reading every record; statuses it leaves out are unknown.
 * - A store written by its driver (see {@linkcode Driver.publish}) may refuse `create` and `put`.
 */
export interface RecordStore {
  /** The record of `id`, or `undefined`. */
  get(id: string): Promise<EventRecord | undefined>;
  /**
   * Inserts each record unless one with the same id was published at or after `dedupSince`;
   * answers, per record, true when inserted and false when it was a duplicate. Atomic per id,
   * across processes.
   */
  create(records: readonly EventRecord[], dedupSince: number): Promise<boolean[]>;
  /** Replaces a record. */
  put(record: EventRecord): Promise<void>;
  /** Removes a record; true when there was one. */
  delete(id: string): Promise<boolean>;
  /** Records newest first (by publish time, then id), filtered and paged: 50 a page unless `limit` says. */
  list(query: ListQuery): Promise<Page<EventRecord>>;
  /** Records per status, for the statuses the store counts cheaply (optional). */
  count?(): Promise<StatusCounts>;
}

/** What became of a delivery, for the driver to map onto its transport. */
export type Outcome =
  | { readonly status: "done" }
  | { readonly status: "retry"; readonly at: number; readonly envelope: Envelope }
  | { readonly status: "dead" };

/**
 * Runs an envelope's handlers, saves their results and says what the driver should do next:
 * `done` (acknowledge), `retry` (deliver `envelope` again at `at`), `dead` (acknowledge; the bus
 * has recorded the dead letter).
 *
 * It rejects only when the store failed (it could not read or save the record). The delivery
 * did not count: keep the message and deliver the same envelope again later (a queue's retry,
 * or a timer: the memory driver tries again a second later). Never drop it.
 */
export type Dispatch = (envelope: Envelope) => Promise<Outcome>;

/** A handler as the application knows it: its id and the name or pattern it takes. */
export interface HandlerInfo {
  /** The handler's id, unique in the application. */
  readonly id: string;
  /** The event name or pattern it handles (`user.joined`, `user.*`, `billing.>`). */
  readonly pattern: string;
}

/**
 * Runs one handler of this process at a time, for drivers that deliver per handler (NATS: one
 * durable consumer per handler id, shared by every process that has the handler).
 *
 * The runner writes nothing: the driver saves each result `run` returns with the event's record
 * (it owns the records, see {@linkcode Driver.publish}), schedules the handler again at `nextAt`
 * when it failed, and records the event as a dead letter when a handler is `dead`. A handler id
 * the process lacks answers `failed`, so that another process takes it.
 */
export interface HandlerRunner {
  /** The handlers this process has, in registration order. */
  readonly handlers: readonly HandlerInfo[];
  /**
   * Runs one handler for an envelope under its timeout and retry policy. `previous` is what
   * the handler did with this event before (its attempts count on). Never rejects: a failure
   * is a result with status `failed` (and `nextAt`) or `dead`.
   */
  run(envelope: Envelope, handlerId: string, previous?: HandlerResult): Promise<HandlerResult>;
  /** Calls `listener` with each handler added from now on (`bus.on` after `bus.start`). */
  onAdd(listener: (handler: HandlerInfo) => void): void;
}

/**
 * The handlers of every process of an application, for drivers whose processes share one
 * queue (Cloudflare: two Worker versions during a gradual deployment). The bus never settles
 * an event as having no handler, or as done, while a handler it lacks is known here: it hands
 * the event back to the transport so that a process that has the handler takes it.
 *
 * Announcements expire: a driver announces again while it runs (Cloudflare: once a minute), and
 * a handler no process announced for a while is forgotten, so events stop waiting for it.
 */
export interface HandlerRegistry {
  /** Says that this process has these handlers (the driver refreshes it while it runs). */
  announce(handlers: readonly HandlerInfo[]): Promise<void>;
  /** The handlers some process of the application announced recently. */
  known(): Promise<readonly HandlerInfo[]>;
}

/**
 * A transport. The bus hands it envelopes with `send`; the driver delivers each one when due
 * by calling the `dispatch` given to `start`, and maps the outcome onto its transport (ack,
 * re-send at `at`, nothing more for `dead`, since the bus has recorded the dead letter).
 *
 * The memory driver (`memoryDriver` in `src/memory/driver.ts`) is the readable reference. The
 * rules, which the conformance suite in `edgebus/testing` checks:
 *
 * - **At least once.** A delivery may be repeated; `dispatch` skips events already finished.
 * - **Re-sent duplicates arrive with attempt 1.** When a publish half-failed (the record was
 *   stored, the send never confirmed), publishing the same id again sends the same envelope
 *   again, with attempt 1. While an envelope with that id is still waiting to be delivered, the
 *   transport drops the new one (by id); once it was delivered, an id sent again is a new
 *   delivery (a dead letter replayed keeps its id and starts again at attempt 1).
 * - **`send` is all or none** and resolves once the envelopes are durable; when it rejects, the
 *   bus removes the records it created and the publish fails.
 * - **When `dispatch` rejects** the store failed: keep the message and deliver it again later.
 * - **Push drivers** (a platform calls the application: Cloudflare Queues call the Worker's
 *   `queue()`) never call `start`'s dispatch: the platform's handler calls `bus.handleBatch`,
 *   which dispatches each message. Such a driver's `start` only prepares (announces handlers).
 * - **Drivers that own records** implement `publish` (and `replay`): the bus then calls neither
 *   `store.create` nor `send`, its store may refuse `create` and `put`, `handleBatch` is refused,
 *   and delivery goes through the {@linkcode HandlerRunner} given to `start`, one handler at a
 *   time; the driver writes each handler's result (the NATS driver is the example).
 * - **`registry`**, when the processes of an application share one queue, keeps the bus from
 *   settling an event for a handler another process has (see {@linkcode HandlerRegistry}).
 */
export interface Driver {
  /** Where records and dead letters live. */
  readonly store: RecordStore;
  /** True when the bus should start the driver itself on the first publish. */
  readonly autoStart?: boolean;
  /** Stores and schedules envelopes, all or none; resolves once they are durable. */
  send(envelopes: readonly Envelope[]): Promise<void>;
  /** Removes a scheduled envelope before delivery, when the transport can; true if removed. */
  cancel(id: string): Promise<boolean>;
  /**
   * Begins delivering: to `dispatch` (every handler of an event in one call), or, for a driver
   * that delivers per handler, to `runner`. A push driver calls neither.
   */
  start(dispatch: Dispatch, runner?: HandlerRunner): Promise<void>;
  /**
   * For drivers that keep the record themselves (NATS: the published message is the record's
   * first version): stores and schedules new events in one write each, answering per envelope
   * true when published and false when its id was already published and is still kept. When
   * present the bus calls it instead of `store.create` and `send`; `cancel` must then mark the
   * event cancelled for every handler, and `replay` run a dead letter's failed handlers again.
   * The same dedup rule as `store.create` holds: one publish per id, across processes.
   */
  publish?(envelopes: readonly Envelope[]): Promise<boolean[]>;
  /** With `publish`: runs a dead letter's failed handlers again, or an event no handler had; false when it is neither. */
  replay?(id: string): Promise<boolean>;
  /**
   * For a driver whose store and transport are one (the memory driver): creates the records that
   * are new, by `store.create`'s rule, and schedules their envelopes, as one step that cannot fail
   * half-way, so that a duplicate never needs sending again. It may answer at once. When present
   * (and `publish` is not), the bus calls it instead of `store.create` and `send`; it answers
   * `undefined` to leave the publish to those two (the memory driver does once a wrapper has
   * replaced its store or `send`).
   */
  createAndSend?(
    envelopes: readonly Envelope[],
    records: readonly EventRecord[],
    dedupSince: number,
  ): boolean[] | Promise<boolean[]> | undefined;
  /** Where an application's handlers are known across processes (see {@linkcode HandlerRegistry}). */
  readonly registry?: HandlerRegistry;
  /** Where schedules (`bus.schedule`) are kept and fired; without it the bus refuses them. */
  readonly schedules?: ScheduleStore;
  /** Stops taking new deliveries, waits for those under way, and closes. */
  stop(): Promise<void>;
}

/**
 * Where a driver keeps schedules, and who publishes their ticks. Rules (the conformance suite
 * checks them):
 *
 * - **`declare` is atomic per id, across processes**: it stores the schedule when none has its
 *   id (`created`), changes nothing when the stored one has the same spec (`unchanged`, see
 *   `sameSpec` in `edgebus/driver`: every process declares its schedules at start), and
 *   otherwise replaces it with `replaceSchedule(stored, declared)` (`replaced`).
 * - **`list`** answers schedules by id in ascending order, `limit` (default 50) a page, the
 *   page's last id as `cursor` when more follow.
 * - **Ticks** are published by calling the `fire` given to `start` with the schedules that may
 *   be due and the progress kept for each, then keeping the progress it answers (a driver may
 *   keep it per schedule or as one time for all), and calling again at the `next` tick it
 *   answers. Which process calls it is the driver's choice (timers in process, the holder of a
 *   lease, an alarm); two processes calling it for the same tick publish it once, since the
 *   tick's event id is the same. A driver whose platform runs the ticks without a bus (an
 *   alarm in an object) leaves `start` out and publishes through a bus of its own.
 * - A schedule is fired from the moment `declare` or `setPaused` resolved (a timer is
 *   rearmed, or the firing process learns of it within about a second).
 */
export interface ScheduleStore {
  /** Stores a schedule unless the same spec is stored; replaces a different one. */
  declare(schedule: Schedule): Promise<"created" | "replaced" | "unchanged">;
  /** The schedule of `id`, or `undefined`. */
  get(id: string): Promise<Schedule | undefined>;
  /** Schedules by id, paged. */
  list(query: ScheduleQuery): Promise<Page<Schedule>>;
  /** Pauses or resumes (a resume counts ticks from `at`); the schedule after, or `undefined` when unknown. */
  setPaused(id: string, paused: boolean, at: number): Promise<Schedule | undefined>;
  /** Removes a schedule; true when there was one. */
  delete(id: string): Promise<boolean>;
  /** Begins publishing ticks through `fire`, until the driver stops. */
  start?(fire: FireTicks): Promise<void>;
}
