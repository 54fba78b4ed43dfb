/**
 * edgebus for driver authors: the driver contract and the helpers every driver shares. An
 * application needs none of this; it imports `createBus` and a driver from the other entries.
 *
 * The contract is {@linkcode Driver} (a transport) with its {@linkcode RecordStore} (records
 * and dead letters); each documents the rules a driver keeps, and `runDriverConformance` from
 * `edgebus/testing` checks them. `memoryDriver` (in the main entry, since applications pass it)
 * is the readable reference; `memoryStore` is its store, for drivers that keep records in
 * process.
 *
 * The helpers are here only: envelopes made, read and restored from records
 * (`createEnvelope`, `envelopeJson`, `readEnvelope`, `initialRecord`, `envelopeOf`), the cursor shared by every
 * store (`encodeCursor`, `decodeCursor`, `newerFirst`, `DEFAULT_LIST_LIMIT`), `compilePattern`,
 * `assertJson`, `idGenerator` and `memoryStore`. The contract's types (`Driver`,
 * `RecordStore`, `Dispatch`, `Outcome`, `HandlerRunner`, `HandlerRegistry`, and the `Envelope`
 * and `EventRecord` they carry) are in the main entry too, which needs them to document
 * `Driver` (applications pass one): a driver imports its whole contract from here.
 *
 * @example A driver over the memory store that delivers at once (no delays, no cancel)
 * ```ts
 * import { createBus } from "@edgebus/edgebus";
 * import { type Dispatch, type Driver, memoryStore } from "@edgebus/edgebus/driver";
 *
 * function immediateDriver(): Driver {
 *   let dispatch: Dispatch | undefined;
 *   const deliver = async (envelope: Parameters<Dispatch>[0]): Promise<void> => {
 *     const outcome = await dispatch!(envelope);
 *     if (outcome.status === "retry") setTimeout(() => deliver(outcome.envelope), outcome.at - Date.now());
 *   };
 *   return {
 *     store: memoryStore(),
 *     autoStart: true,
 *     send(envelopes) {
 *       for (const envelope of envelopes) void deliver(envelope);
 *       return Promise.resolve();
 *     },
 *     cancel: () => Promise.resolve(false),
 *     start(d) {
 *       dispatch = d;
 *       return Promise.resolve();
 *     },
 *     stop: () => Promise.resolve(),
 *   };
 * }
 *
 * const bus = createBus({ driver: immediateDriver() });
 * bus.on("user.joined", () => {});
 * await bus.stop();
 * ```
 *
 * @module
 */
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
} from "../src/driver.ts";
export { MAX_PUBLISHED } from "../src/driver.ts";
export { cutBody, cutPage } from "../src/body_cut.ts";
export { createEnvelope, type Draft, envelopeJson, envelopeOf, initialRecord, readEnvelope } from "../src/envelope.ts";
export { publishItem } from "../src/publishing.ts";
export {
  decodeCursor,
  DEFAULT_LIST_LIMIT,
  encodeCursor,
  type ListPosition,
  newerFirst,
  pageOf,
} from "../src/cursor.ts";
export { wholeNumber } from "../src/options.ts";
export { compilePattern, type Matcher } from "../src/patterns.ts";
export { assertJson } from "../src/json.ts";
export { idGenerator } from "../src/ids.ts";
export { memoryStore, type MemoryStoreOptions } from "../src/memory/store.ts";
export { fnv1a } from "../src/hash.ts";
export { EVENT_STATUSES, FINAL_STATUSES, isFinal } from "../src/statuses.ts";
export { assertTimeZone, compileCron, type CronTimes } from "../src/cron.ts";
export { type CronCache, cronCache, planTicks, type TickPlan } from "../src/schedule_plan.ts";
export {
  type DueSchedule,
  type Fired,
  type FireTicks,
  type ScheduleProgress,
  tickFirer,
  type TickTarget,
} from "../src/schedule_fire.ts";
export {
  assertScheduleId,
  makeSchedule,
  replaceSchedule,
  sameSpec,
  type Schedule,
  type ScheduleQuery,
  tickId,
} from "../src/schedules.ts";
export { type MemorySchedules, memorySchedules } from "../src/memory/schedules.ts";
