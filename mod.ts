/**
 * edgebus: background events on the edge. Publish an event now or up to a year later; handlers
 * run it with retries, timeouts and dead letters, and every handler's outcome is recorded.
 *
 * This entry is runtime-neutral. `createBus()` with no driver runs in process (nothing survives
 * a restart); the drivers for Cloudflare and NATS live in their own entries.
 *
 * It holds what an application uses: `createBus` and the types of the bus, its events, records
 * and options; the errors it throws and handlers throw; the delay and retry policy as pure
 * functions (`parseAfter`, `nextDelay`, the presets) with the limits they enforce; and
 * `memoryDriver`. Applications choose and pass a driver, so the `Driver` type is here, with the
 * types it is made of (`RecordStore`, `Dispatch`, `HandlerRunner`...) so that its documentation
 * is whole (and `ListPosition`, which the Cloudflare entry's store object takes). What only a
 * driver's code calls (envelopes, cursors, `compilePattern`, `memoryStore`) is in
 * `edgebus/driver`, and the driver conformance suite in `edgebus/testing`: this entry stays the
 * surface an application relies on.
 *
 * @example Publish now and in a day
 * ```ts
 * import { createBus } from "@edgebus/edgebus";
 *
 * const bus = createBus();
 * bus.on("user.joined", async (event, ctx) => {
 *   await ctx.publish("email.welcome", { to: (event.body as { email: string }).email });
 * });
 * const id = await bus.publish("user.joined", { email: "new@example.com" });
 * await bus.publish("user.joined", { after: "1 day", id: `follow-up-${id}` }, { email: "new@example.com" });
 * console.log((await bus.get(id))?.status);
 * await bus.stop();
 * ```
 *
 * @module
 */
export { createBus } from "./src/bus.ts";
export { type After, latestDue, ONE_YEAR_MS, parseAfter } from "./src/after.ts";
export { amptRetry, canRetry, defaultRetry, nextDelay, resolveRetry, type RetryPolicy } from "./src/retry.ts";
export { assertName, MAX_NAME_LENGTH } from "./src/patterns.ts";
export { assertId } from "./src/ids.ts";
export { type Json, MAX_DEPTH, MAX_ENVELOPE_BYTES } from "./src/json.ts";
export {
  EdgebusError,
  type ErrorCode,
  NonRetriableError,
  RetryAfterError,
  ValidationError,
  type ValidationIssue,
} from "./src/errors.ts";
export { HandlerTimeoutError, MAX_TIMER_MS } from "./src/run_handler.ts";
export { memoryDriver, type MemoryDriverOptions } from "./src/memory/driver.ts";
export type { MemoryStoreOptions } from "./src/memory/store.ts";
export type { StandardResult, StandardSchemaV1 } from "./src/schema.ts";
export {
  type CatchUp,
  MAX_CATCH_UP,
  MAX_SCHEDULE_ID,
  MISSED_AFTER,
  type Overlap,
  type Schedule,
  type ScheduleInfo,
  type ScheduleOptions,
  type ScheduleQuery,
  tickId,
} from "./src/schedules.ts";
export type { ScheduleDeclared, Schedules } from "./src/schedule_api.ts";
export type { DueSchedule, Fired, FireTicks, ScheduleProgress } from "./src/schedule_fire.ts";
// The Cloudflare entry's store object takes a list position: its docs link here.
export type { ListPosition } from "./src/cursor.ts";
export type {
  Dispatch,
  Driver,
  Envelope,
  EventRecord,
  EventStatus,
  HandlerInfo,
  HandlerRegistry,
  HandlerResult,
  HandlerRunner,
  ListQuery,
  Outcome,
  Page,
  RecordStore,
  ScheduleStore,
  StatusCounts,
} from "./src/driver.ts";
export type {
  BatchFailure,
  BatchMessage,
  BatchResult,
  Bus,
  BusOptions,
  DeadLetters,
  Event,
  Handler,
  HandlerContext,
  HandlerOptions,
  Publisher,
  PublishItem,
  PublishOptions,
  StopOptions,
} from "./src/types.ts";
