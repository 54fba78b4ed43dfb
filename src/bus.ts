import { handleBatch } from "./batch.ts";
import { createDispatch, createRunner, type Registered } from "./dispatch.ts";
import type { Dispatch, Envelope, EventRecord, ListQuery, Page } from "./driver.ts";
import { createEnvelope, type Draft, envelopeOf, initialRecord } from "./envelope.ts";
import { EdgebusError } from "./errors.ts";
import { idGenerator } from "./ids.ts";
import { memoryDriver } from "./memory/driver.ts";
import { compilePattern } from "./patterns.ts";
import { resolveRetry } from "./retry.ts";
import { assertTimeout, type Shutdown } from "./run_handler.ts";
import { validateBody } from "./schema.ts";
import type {
  BatchMessage,
  BatchResult,
  Bus,
  BusOptions,
  DeadLetters,
  Event,
  Handler,
  HandlerOptions,
  Publisher,
  PublishItem,
  PublishOptions,
  StopOptions,
} from "./types.ts";

const DAY = 86_400_000;

function publishArgs(name: string, args: unknown[]): PublishItem {
  if (args.length >= 2) {
    const options = args[0];
    if (typeof options !== "object" || options === null || Array.isArray(options)) {
      throw new EdgebusError(
        "invalid_option",
        `Cannot publish "${name}": with three arguments the second must be the options object`,
      );
    }
    return { ...(options as PublishOptions), name, body: args[1] };
  }
  return { name, body: args[0] };
}

function assertQuery(query: ListQuery): void {
  const { limit, name, status } = query;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000)) {
    throw new EdgebusError("invalid_option", `Invalid limit ${String(limit)}: expected a whole number from 1 to 1000`);
  }
  if (name !== undefined) compilePattern(name);
  const statuses = ["scheduled", "pending", "retrying", "done", "dead", "cancelled"];
  if (status !== undefined && !statuses.includes(status)) {
    throw new EdgebusError(
      "invalid_option",
      `Invalid status ${JSON.stringify(status)}: expected one of ${statuses.join(", ")}`,
    );
  }
}

/** Runs a store or transport call; any failure that is not already typed becomes `unavailable`. */
async function transport<T>(doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof EdgebusError) throw error;
    throw new EdgebusError("unavailable", `Cannot ${doing}: the transport failed (${String(error)})`, { cause: error });
  }
}

/** A send that timed out may still have landed: the error says how to be sure of exactly one delivery. */
function mayHaveLanded(error: unknown, envelopes: readonly Envelope[]): unknown {
  if (!(error instanceof EdgebusError) || error.code !== "unavailable") return error;
  const ids = envelopes.slice(0, 3).map((e) => JSON.stringify(e.id)).join(", ");
  const hint = envelopes.length === 1 ? `id ${ids}` : `ids ${ids}${envelopes.length > 3 ? ", …" : ""}`;
  return new EdgebusError(
    "unavailable",
    `${error.message}. It may still have been sent: publish again with ${hint} to have it delivered once`,
    { cause: error },
  );
}

/** A shutdown flag with its listeners, one per running handler. */
function shutdownSwitch(): Shutdown & { abort(): void } {
  const listeners = new Set<() => void>();
  let aborted = false;
  return {
    get aborted() {
      return aborted;
    },
    onAbort(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    abort() {
      aborted = true;
      for (const fn of listeners) fn();
      listeners.clear();
    },
  };
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
  assertTimeout(timeout, "the bus");
  if (!(dedupWindow >= 0)) {
    throw new EdgebusError("invalid_option", `Invalid dedupWindow ${dedupWindow}: expected ms >= 0`);
  }
  if (!Number.isInteger(batchConcurrency) || batchConcurrency < 1) {
    throw new EdgebusError(
      "invalid_option",
      `Invalid batchConcurrency ${batchConcurrency}: expected a whole number >= 1`,
    );
  }
  const store = driver.store;
  const hasSchemas = Object.keys(schemas).length > 0;
  const handlers: Registered[] = [];
  const newId = idGenerator(now);
  const shutdown = shutdownSwitch();
  const batches = new Set<Promise<unknown>>();
  let started: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  async function publishDrafts(drafts: readonly Draft[]): Promise<string[]> {
    if (stopping) throw new EdgebusError("stopped", "Cannot publish: the bus is stopping or stopped");
    const at = now();
    const checked = hasSchemas
      ? await Promise.all(drafts.map(async (draft) => {
        const schema = typeof draft.name === "string" ? schemas[draft.name] : undefined;
        return schema ? { ...draft, body: await validateBody(draft.name, schema, draft.body) } : draft;
      }))
      : drafts;
    const envelopes = checked.map((draft) => createEnvelope(draft, at, newId));
    if (driver.publish) return await publishOwned(envelopes);
    const created = await transport(
      "store the events",
      () => store.create(envelopes.map((e) => initialRecord(e, at)), at - dedupWindow),
    );
    const fresh = envelopes.filter((_, i) => created[i]);
    const again = await unsent(envelopes.filter((_, i) => !created[i]), fresh);
    if (fresh.length + again.length === 0) return envelopes.map((e) => e.id);
    if (driver.autoStart) await bus.start();
    try {
      await transport("send the events", () => driver.send([...fresh, ...again]));
    } catch (error) {
      // Nothing may look published that the transport did not take: undo the new records.
      await Promise.allSettled(fresh.map((e) => store.delete(e.id)));
      throw mayHaveLanded(error, envelopes);
    }
    return envelopes.map((e) => e.id);
  }

  /** Publishes through a driver that keeps the records itself: one write per event. */
  async function publishOwned(envelopes: readonly Envelope[]): Promise<string[]> {
    if (driver.autoStart) await bus.start();
    try {
      await transport("send the events", () => driver.publish!(envelopes));
    } catch (error) {
      throw mayHaveLanded(error, envelopes);
    }
    return envelopes.map((e) => e.id);
  }

  /**
   * Duplicates whose first publish may have failed half-way (the record stored, the send never
   * confirmed) are sent again while they are still undelivered: transports drop true duplicates
   * by id, and dispatch skips events already finished.
   */
  async function unsent(duplicates: readonly Envelope[], fresh: readonly Envelope[]): Promise<Envelope[]> {
    const seen = new Set(fresh.map((e) => e.id));
    const again: Envelope[] = [];
    for (const { id } of duplicates) {
      if (seen.has(id)) continue;
      seen.add(id);
      const record = await store.get(id);
      if (record && record.attempt === 0 && (record.status === "pending" || record.status === "scheduled")) {
        again.push({ ...envelopeOf(record), attempt: 1 });
      }
    }
    return again;
  }

  function publisherFor(parent?: Event): Publisher {
    return {
      publish(name: string, ...args: unknown[]): Promise<string> {
        try {
          const item = publishArgs(name, args);
          const draft: Draft = parent
            ? { ...item, causationId: parent.id, correlationId: item.correlationId ?? parent.correlationId }
            : item;
          return publishDrafts([draft]).then((ids) => ids[0]);
        } catch (error) {
          return Promise.reject(error);
        }
      },
    } as Publisher;
  }

  const added = new Set<(handler: { id: string; pattern: string }) => void>();
  const dispatchDeps = { store, handlers, now, shutdown, publisherFor, registry: driver.registry, added };
  const dispatch: Dispatch = createDispatch(dispatchDeps);
  const runner = createRunner(dispatchDeps);

  const deadLetters: DeadLetters = {
    list(query = {}): Promise<Page<EventRecord>> {
      assertQuery(query);
      return store.list({ ...query, status: "dead" });
    },
    async replay(id: string): Promise<boolean> {
      if (driver.replay) {
        if (driver.autoStart) await bus.start();
        return await transport(`replay "${id}"`, () => driver.replay!(id));
      }
      const record = await store.get(id);
      if (!record || record.status !== "dead") return false;
      const at = now();
      const kept = Object.fromEntries(Object.entries(record.handlers).filter(([, r]) => r.status === "done"));
      const envelope: Envelope = { ...envelopeOf(record), attempt: 1, due: at };
      await store.put({ ...record, status: "pending", attempt: 0, due: at, handlers: kept, updatedAt: at });
      if (driver.autoStart) await bus.start();
      try {
        await driver.send([envelope]);
      } catch (error) {
        await store.put(record); // still a dead letter, to replay later
        throw new EdgebusError("unavailable", `Cannot replay "${id}": the transport refused it (${String(error)})`, {
          cause: error,
        });
      }
      return true;
    },
    async delete(id: string): Promise<boolean> {
      const record = await store.get(id);
      return record?.status === "dead" ? store.delete(id) : false;
    },
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
    async cancel(id: string): Promise<boolean> {
      if (driver.publish) return await transport(`cancel "${id}"`, () => driver.cancel(id));
      const record = await store.get(id);
      if (!record || record.status !== "scheduled" || record.due <= now()) return false;
      await store.put({ ...record, status: "cancelled", updatedAt: now() });
      await driver.cancel(id);
      return true;
    },
    get: (id: string): Promise<EventRecord | undefined> => store.get(id),
    async list(query: ListQuery = {}): Promise<Page<EventRecord>> {
      assertQuery(query);
      return await store.list(query);
    },
    deadLetters,
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
      started ??= driver.start(dispatch, runner);
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
