/**
 * edgebus on Cloudflare Workers: Queues carry events, a SQLite-backed Durable Object holds the
 * ones due later than Queues can delay them, another keeps records and dead letters.
 *
 * @example A Worker (see the README for its `wrangler.toml`)
 * ```ts
 * import { createBus } from "../../mod.ts";
 * import { cloudflareDriver, worker } from "./mod.ts";
 * export { EdgebusScheduler, EdgebusStore } from "./mod.ts";
 *
 * const driver = cloudflareDriver();
 * const bus = createBus({ driver });
 * bus.on("user.joined", async (event, ctx) => {
 *   await ctx.publish("email.follow-up", { after: "2 days" }, event.body);
 * });
 * export default worker(bus, {
 *   driver,
 *   fetch: async (request) => Response.json({ id: await bus.publish("user.joined", await request.json()) }, { status: 202 }),
 * });
 * ```
 *
 * @module
 */
export { type BindingNames, type Bindings, DEFAULT_BINDINGS, MissingBindingError } from "./bindings.ts";
export { buryBatch, consumeBatch, CONSUMER_HANDLER, type ConsumerOptions } from "./consumer.ts";
export { type CloudflareDriver, cloudflareDriver, type CloudflareDriverOptions } from "./driver.ts";
export { type DurableOutbox, durableOutbox, type DurableOutboxOptions, type DurableOutboxTarget } from "./outbox.ts";
export { QUEUE_LIMITS, type QueueLimits } from "./message.ts";
export { ObjectBase, type ObjectBaseClass } from "./object_base.ts";
export type { SweepConfig } from "./overdue.ts";
export type { PublishConfig } from "./schedules_table.ts";
export type * from "./platform.ts";
export type { Route } from "./routing.ts";
export { EdgebusScheduler, type ScheduledRow } from "./scheduler_object.ts";
export { EdgebusStore } from "./store_object.ts";
export type { Position } from "./record_sql.ts";
export type { CloudflareRegistry } from "./registry.ts";
export type { DurableStore } from "./store.ts";
export { type EdgebusWorker, type FetchHandler, worker, type WorkerOptions } from "./worker.ts";
