import { handleBatch } from "./batch.ts";
import { cutPage } from "./body_cut.ts";
import { createDeadLetters } from "./dead_letters.ts";
import { createDispatch, createRunner, type HandlerListener, type Registered } from "./dispatch.ts";
import type { Dispatch, EventRecord, ListQuery, Page } from "./driver.ts";
import { EdgebusError } from "./errors.ts";
import { idGenerator } from "./ids.ts";
import { memoryDriver } from "./memory/driver.ts";
import { compilePattern } from "./patterns.ts";
import { wholeNumber } from "./options.ts";
import { createPublishing } from "./publishing.ts";
import { assertQuery } from "./query.ts";
import { resolveRetry } from "./retry.ts";
import { createScheduleApi } from "./schedule_api.ts";
import { tickFirer } from "./schedule_fire.ts";
import { cronCache } from "./schedule_plan.ts";
import { assertTimeout } from "./run_handler.ts";
import { shutdownSwitch } from "./shutdown.ts";
import { transport } from "./transport.ts";
import type {
  BatchMessage,
  BatchResult,
  Bus,
  BusOptions,
  Handler,
  HandlerOptions,
  PublishItem,
  StopOptions,
} from "./types.ts";

const DAY = 86_400_000;

function assertOptions(timeout: number, dedupWindow: number, batchConcurrency: number): void {
  assertTimeout(timeout, "the bus");
  if (!(dedupWindow >= 0)) {
    throw new EdgebusError("invalid_option", `Invalid dedupWindow ${dedupWindow}: expected ms >= 0`);
  }
  wholeNumber("batchConcurrency", batchConcurrency);
}

/**
 * Creates a bus: register handlers with `on`, send events with `publish`.
 *
 * @param options the driver, the retry policy, timeouts and limits
 * @returns the bus
 * @throws {EdgebusError} code `invalid_option` when an option is out of range
 *
 * @example Publish now and later
 * ```ts
 * import { createBus } from "@edgebus/edgebus";
 * const bus = createBus();
 * bus.on("user.joined", async (event) => {
 *   console.log("welcome", (event.body as { user_id: string }).user_id);
 * });
 * await bus.publish("user.joined", { user_id: "2b6m" });
 * await bus.publish("user.joined", { after: "1 day", id: "join-2b6m" }, { user_id: "2b6m" });
 * await bus.stop();
 * ```
 */
export function createBus(options: BusOptions = {}): Bus {
  const {
    driver = memoryDriver(),
    timeout = 5_000,
    dedupWindow = DAY,
    gracePeriod = 10_000,
    batchConcurrency = 10,
    schemas = {},
    now = Date.now,
  } = options;
  const retry = resolveRetry(options.retry);
  assertOptions(timeout, dedupWindow, batchConcurrency);
  const store = driver.store;
  const handlers: Registered[] = [];
  const shutdown = shutdownSwitch();
  const batches = new Set<Promise<unknown>>();
  const added = new Set<HandlerListener>();
  let started: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  // Nothing to wait for (no promise) when the driver does not start itself, or once it has
  // started: one await less per publish.
  let running = false;
  const autoStart = (): Promise<void> | undefined => driver.autoStart && !running ? bus.start() : undefined;

  const { publishDrafts, publisherFor } = createPublishing({
    driver,
    schemas,
    dedupWindow,
    now,
    newId: idGenerator(now),
    stopping: () => !!stopping,
    autoStart,
  });
  const dispatchDeps = { store, handlers, now, shutdown, publisherFor, registry: driver.registry, added };
  const dispatch: Dispatch = createDispatch(dispatchDeps);
  const runner = createRunner(dispatchDeps);
  const cache = cronCache();
  const { schedule, schedules } = createScheduleApi({
    driver,
    schemas,
    now,
    cache,
    autoStart,
    cancel: (id) => bus.cancel(id),
  });

  // The driver's schedules learn how to publish ticks before the driver starts firing them.
  const startDriver = (): Promise<void> => {
    const scheduling = driver.schedules?.start?.(tickFirer(bus, cache, now));
    return scheduling ? scheduling.then(() => driver.start(dispatch, runner)) : driver.start(dispatch, runner);
  };

  const bus: Bus = {
    driver,
    on(pattern: string, ...args: unknown[]): Bus {
      const [opts, handler] = args.length >= 2 ? args as [HandlerOptions, Handler] : [{}, args[0] as Handler];
      const matches = compilePattern(pattern);
      if (typeof handler !== "function") {
        throw new EdgebusError(
          "invalid_option",
          `Cannot add a handler for "${pattern}": expected a function, got ${typeof handler}`,
        );
      }
      const id = opts.id ?? `${pattern}#${handlers.filter((h) => h.id.startsWith(`${pattern}#`)).length + 1}`;
      if (handlers.some((h) => h.id === id)) {
        throw new EdgebusError(
          "duplicate_handler",
          `Cannot add handler "${id}": a handler with that id exists; give each a unique id`,
        );
      }
      const handlerTimeout = opts.timeout ?? timeout;
      assertTimeout(handlerTimeout, `handler "${id}"`);
      handlers.push({
        id,
        pattern,
        matches,
        handler: handler as Handler,
        timeout: handlerTimeout,
        retry: resolveRetry(opts.retry, retry),
      });
      for (const listener of added) listener({ id, pattern });
      return bus;
    },
    publish: publisherFor().publish,
    publishBatch(items: readonly PublishItem[]): Promise<string[]> {
      if (!Array.isArray(items)) {
        return Promise.reject(
          new EdgebusError("invalid_option", "Cannot publish a batch: expected an array of { name, body }"),
        );
      }
      return items.length === 0 ? Promise.resolve([]) : publishDrafts(items);
    },
    cancel(id: string): Promise<boolean> {
      return transport(`cancel "${id}"`, async () => {
        if (driver.publish) return await driver.cancel(id);
        const record = await store.get(id);
        if (!record || record.status !== "scheduled" || record.due <= now()) return false;
        await store.put({ ...record, status: "cancelled", updatedAt: now() });
        await driver.cancel(id);
        return true;
      });
    },
    get: (id: string): Promise<EventRecord | undefined> => transport(`read "${id}"`, () => store.get(id)),
    async list(query: ListQuery = {}): Promise<Page<EventRecord>> {
      assertQuery(query);
      return cutPage(await transport("list the events", () => store.list(query)), query.bodyLimit);
    },
    deadLetters: createDeadLetters({ driver, now, autoStart }),
    schedule,
    schedules,
    handleBatch(messages: readonly BatchMessage[]): Promise<BatchResult> {
      if (driver.publish) {
        return Promise.reject(
          new EdgebusError(
            "invalid_option",
            "Cannot run handleBatch on this driver: it delivers events itself to the processes that call bus.start()",
          ),
        );
      }
      const run = handleBatch(messages, {
        dispatch,
        concurrency: batchConcurrency,
        retry,
        now,
        stopping: () => !!stopping,
      });
      batches.add(run);
      return run.finally(() => batches.delete(run));
    },
    start(): Promise<void> {
      if (stopping) return Promise.reject(new EdgebusError("stopped", "Cannot start: the bus is stopping or stopped"));
      started ??= startDriver().then(() => void (running = true));
      return started;
    },
    stop(stopOptions: StopOptions = {}): Promise<void> {
      stopping ??= (async () => {
        const grace = stopOptions.gracePeriod ?? gracePeriod;
        const timer = setTimeout(shutdown.abort, grace);
        try {
          await started?.catch(() => {});
          await Promise.all([driver.stop(), ...batches]);
        } finally {
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
  };
  return bus;
}
