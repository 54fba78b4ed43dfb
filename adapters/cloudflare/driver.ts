import { EdgebusError } from "../../mod.ts";
import { type Dispatch, type Driver, type Envelope, type HandlerRunner, wholeNumber } from "../../driver/mod.ts";
import { type BindingNames, type Bindings, DEFAULT_BINDINGS, resolveBindings } from "./bindings.ts";
import { platformEnv } from "./env.ts";
import { sendAll, storedId } from "./message.ts";
import type { WorkerEnv } from "./platform.ts";
import { compileRoutes, type Route } from "./routing.ts";
import { callObject } from "./rpc.ts";
import { planDelivery } from "./plan.ts";
import { type CloudflareRegistry, handlerRegistry } from "./registry.ts";
import { cloudflareSchedules } from "./schedules.ts";
import { groupByShard, objectName, shardOf } from "./shard.ts";
import { type DurableStore, durableStore } from "./store.ts";

/** Options of {@linkcode cloudflareDriver}. */
export interface CloudflareDriverOptions {
  /** Binding names, where yours differ from the defaults. @default {DEFAULT_BINDINGS} */
  readonly bindings?: BindingNames;
  /** Sends events to other queues by name pattern, first match wins, such as
   * `[{ pattern: "billing.>", queue: "BILLING_QUEUE" }]`. @default {[]} */
  readonly routes?: readonly Route[];
  /** The longest delay, in whole seconds, left to Queues' `delaySeconds`; longer delays go to the
   * scheduler object. Queues accepts up to 86400 (24 hours); 0 sends every delayed event through
   * the scheduler (exact to the millisecond, and removed from storage on `cancel`).
   * @default {86400} */
  readonly maxQueueDelay?: number;
  /** How many scheduler objects delayed events are spread over. Keep it once deployed.
   * @default {4} */
  readonly schedulerShards?: number;
  /** How many store objects records are spread over. Keep it once deployed. @default {4} */
  readonly storeShards?: number;
  /** Names this bus's objects, so that two buses can share the namespaces. @default {"edgebus"} */
  readonly prefix?: string;
  /** How long finished records (done, cancelled) are kept, ms; dead letters stay until deleted.
   * @default {86400000} (1 day) */
  readonly retention?: number;
  /** How long a handler announced by a Worker version counts as known after its last
   * announcement, ms. While a handler for an event's name is known and this version lacks it (a
   * gradual deployment runs two versions on one queue), the event is handed back to the queue
   * every 5 seconds rather than settled without it. A handler removed from every version stops
   * being waited for this long after the last version that had it announced it. Versions
   * announce when they first take a batch and then at most once a minute, so it is at least
   * 120000 (2 minutes).
   * @default {86400000} (1 day) */
  readonly handlerTtl?: number;
  /** How long past its due time, and since it last changed, an event that is still scheduled,
   * pending or retrying waits before the store objects' sweep sends it to its queue again (a
   * lost message: Queues' delayed messages in `wrangler dev` do not survive a restart). Keep it
   * above the longest handler timeout, or a slow handler's event is sent a second time. At
   * least 1000.
   * @default {120000} (2 minutes) */
  readonly sweepAfter?: number;
  /** The environment, when it should not come from `cloudflare:workers` or from `worker()`. */
  readonly env?: WorkerEnv;
  /** The clock. @default {Date.now} */
  readonly now?: () => number;
}

/** The Cloudflare driver: a {@linkcode Driver} with what the queue consumer needs beside. */
export interface CloudflareDriver extends Driver {
  /** The bus's clock (the `now` option), for the queue consumer. */
  readonly now: () => number;
  /** The records and stored bodies. */
  readonly store: DurableStore;
  /** Uses this environment from now on (`worker()` calls it with the `env` it receives). */
  useEnv(env: WorkerEnv): void;
  /** The bindings, checked; throws a {@linkcode MissingBindingError} naming what is missing. */
  bindings(): Promise<Bindings>;
  /** The envelope a queue message carries, with a stored body restored; undefined when lost. */
  restore(body: unknown): Promise<unknown>;
  /** Removes the stored bodies of finished events. */
  forget(ids: readonly string[]): Promise<void>;
  /** How many delayed events wait in the scheduler objects. */
  scheduled(): Promise<number>;
  /** Where this application's handlers are known across Worker versions. */
  readonly registry: CloudflareRegistry;
  /** Announces this isolate's handlers (those given to `start`) unless done in the last minute. */
  keepAnnounced(): Promise<void>;
}

/**
 * The driver for Cloudflare Workers: Queues carry events, a SQLite-backed Durable Object holds
 * those due later than Queues can delay them, another keeps the records and dead letters.
 * Create the bus at module scope; the environment is found when first needed.
 *
 * @param options binding names, routes, limits, sharding
 * @returns the driver
 * @throws {EdgebusError} code `invalid_option` or `invalid_pattern` for bad options
 *
 * @example
 * ```ts
 * import { createBus } from "../../mod.ts";
 * import { cloudflareDriver } from "./mod.ts";
 * const bus = createBus({ driver: cloudflareDriver({ routes: [{ pattern: "billing.>", queue: "BILLING_QUEUE" }] }) });
 * bus.on("user.joined", () => {});
 * ```
 */
export function cloudflareDriver(options: CloudflareDriverOptions = {}): CloudflareDriver {
  const { routes = [], prefix = "edgebus", retention = 86_400_000, now = Date.now } = options;
  const names = { ...DEFAULT_BINDINGS, ...options.bindings };
  const maxQueueDelay = wholeNumber("maxQueueDelay", options.maxQueueDelay ?? 86_400, 0, 86_400);
  const schedulerShards = wholeNumber("schedulerShards", options.schedulerShards ?? 4, 1, 1024);
  const storeShards = wholeNumber("storeShards", options.storeShards ?? 4, 1, 1024);
  if (!(retention >= 0)) throw new EdgebusError("invalid_option", `Invalid retention ${retention}: expected ms >= 0`);
  // Versions announce once a minute, so a shorter TTL would forget handlers still deployed.
  const handlerTtl = wholeNumber("handlerTtl", options.handlerTtl ?? 86_400_000, 120_000, 366 * 86_400_000);
  const sweepAfter = wholeNumber("sweepAfter", options.sweepAfter ?? 120_000, 1_000, 366 * 86_400_000);
  const route = compileRoutes(routes, names.queue);
  const routeQueues = routes.map((r) => r.queue);
  let env: WorkerEnv | undefined = options.env;
  const checked = new WeakMap<object, Bindings>();

  async function bindings(): Promise<Bindings> {
    const current = env ?? await platformEnv();
    let found = checked.get(current);
    if (!found) {
      found = resolveBindings(current, names, routeQueues);
      checked.set(current, found);
    }
    return found;
  }

  const store = durableStore({
    namespace: async () => (await bindings()).store,
    prefix,
    shards: storeShards,
    retention,
    sweep: { queue: names.queue, routes: routes.map(({ pattern, queue }) => ({ pattern, queue })), after: sweepAfter },
  });
  const registry = handlerRegistry({
    call: async <T>(method: string, ...args: unknown[]) =>
      callObject<T>((await bindings()).store, objectName(prefix, "records", 0), method, args),
    now,
    ttl: handlerTtl,
  });
  let runner: HandlerRunner | undefined;
  const keepAnnounced = (): Promise<void> =>
    runner ? registry.keepAnnounced(() => runner!.handlers) : Promise.resolve();
  const scheduler = (shard: number, method: string, ...args: unknown[]) => async <T>(): Promise<T> =>
    callObject<T>((await bindings()).scheduler, objectName(prefix, "scheduler", shard), method, args);

  async function send(envelopes: readonly Envelope[]): Promise<void> {
    const { queues } = await bindings();
    const { stored, queued, delayed } = planDelivery(envelopes, now(), route, maxQueueDelay);
    if (stored.length > 0) await store.putBodies(stored);
    const groups = groupByShard(delayed, (row) => row.id, schedulerShards);
    await Promise.all([
      ...[...groups].map(([shard, group]) => scheduler(shard, "schedule", group.map((g) => g.item))<void>()),
      ...[...queued].map(([name, list]) => sendAll(queues.get(name)!, list)),
    ]);
  }

  const schedules = cloudflareSchedules(
    (shard, method, ...args) => scheduler(shard, method, ...args)(),
    schedulerShards,
    { bindings: names, routes, maxQueueDelay, schedulerShards, storeShards, prefix, retention, handlerTtl, sweepAfter },
  );

  return {
    store,
    schedules,
    autoStart: false,
    send,
    async cancel(id) {
      const removed = await scheduler(shardOf(id, schedulerShards), "cancel", id)<boolean>();
      if (removed) await store.deleteBodies([id]);
      return removed;
    },
    start(_dispatch: Dispatch, handlers?: HandlerRunner) {
      // A push driver: the platform calls the Worker's queue(), which runs bus.handleBatch. The
      // runner is kept only for its list of handlers, which this isolate announces.
      runner = handlers;
      return keepAnnounced();
    },
    registry,
    keepAnnounced,
    stop: () => Promise.resolve(),
    now,
    useEnv(next) {
      env = options.env ?? next;
    },
    bindings,
    async restore(body) {
      const id = storedId(body);
      if (id === undefined) return body;
      const json = await store.getBody(id);
      if (json !== undefined) return JSON.parse(json);
      // The record holds the body too (a replayed dead letter, or a body already forgotten).
      const record = await store.get(id);
      if (!record) return undefined;
      const { edgebusStored: _, ...envelope } = body as Record<string, unknown>;
      return { ...envelope, body: record.body };
    },
    forget: (ids) => ids.length === 0 ? Promise.resolve() : store.deleteBodies(ids),
    async scheduled() {
      const counts = await Promise.all(
        Array.from({ length: schedulerShards }, (_, shard) => scheduler(shard, "pending")<number>()),
      );
      return counts.reduce((a, b) => a + b, 0);
    },
  };
}
