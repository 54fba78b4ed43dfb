/**
 * Test wiring for the workerd tests. All tests share one Worker and its queues, so the test
 * Worker's `queue()` hands each message to the consumer of the driver that sent it (each test
 * makes its own driver, with its own object prefix); a late message of an earlier test is
 * acknowledged and dropped instead of reaching another test's handlers.
 */
import type {
  BatchFailure,
  BatchMessage,
  BatchResult,
  Bus,
  BusOptions,
  Dispatch,
  EventRecord,
  EventStatus,
} from "../../mod.ts";
import { createBus } from "../../mod.ts";
import { readEnvelope } from "../../driver/mod.ts";
import { eventually } from "../lib/t.ts";
import {
  type CloudflareDriver,
  cloudflareDriver,
  type CloudflareDriverOptions,
  consumeBatch,
  type EdgebusWorker,
  type QueueBatch,
  type QueueMessage,
  worker,
  type WorkerEnv,
} from "../../adapters/cloudflare/mod.ts";

/** Runs a batch for one driver. */
export type Consume = (batch: QueueBatch, env: WorkerEnv) => Promise<void>;

const owners = new Map<string, Consume>();
/** Queue names each event id arrived on, in order. */
export const arrivals: Map<string, string[]> = new Map();
let prefixes = 0;

/** A fresh object prefix, so that tests never share records or scheduled rows. */
export function freshPrefix(label: string): string {
  return `${label}-${Date.now()}-${prefixes++}`;
}

/**
 * Wraps a driver so that every event it sends is delivered to `consume`.
 *
 * @param driver the driver
 * @param consume what runs its batches (set later, when the bus exists)
 * @returns the driver, tracked
 */
export function track(driver: CloudflareDriver, consume: () => Consume | undefined): CloudflareDriver {
  const deliver: Consume = (batch, env) => consume()?.(batch, env) ?? Promise.resolve();
  const tracked: CloudflareDriver = {
    ...driver,
    send(envelopes) {
      for (const envelope of envelopes) owners.set(envelope.id, deliver);
      return driver.send(envelopes);
    },
    // A schedule's ticks are sent by the scheduler object, not by this driver: they are known
    // by their id's prefix, `<schedule id>:`.
    schedules: driver.schedules && {
      ...driver.schedules,
      declare(schedule) {
        owners.set(`${schedule.id}:`, deliver);
        return driver.schedules!.declare(schedule);
      },
    },
  };
  consumers.set(tracked, deliver);
  return tracked;
}

const consumers = new WeakMap<CloudflareDriver, Consume>();

/**
 * Sends the messages of `id` that reach the queues from now on to `to`: the consumer of a
 * tracked driver, or a function of the test's own.
 *
 * @param id the event id
 * @param to a driver made by {@linkcode track} or {@linkcode setup}, or a consumer
 */
export function deliverTo(id: string, to: CloudflareDriver | Consume): void {
  const consume = typeof to === "function" ? to : consumers.get(to);
  if (!consume) throw new Error("deliverTo() needs a tracked driver");
  owners.set(id, consume);
}

/** The test Worker's `queue()`: each message to its owner, unknown ones acknowledged. */
export async function deliver(batch: QueueBatch, env: WorkerEnv): Promise<void> {
  const groups = new Map<Consume, QueueMessage[]>();
  for (const message of batch.messages) {
    const id = (message.body as { id?: unknown } | null)?.id;
    const owner = typeof id === "string"
      ? owners.get(id) ?? owners.get(id.slice(0, id.lastIndexOf(":") + 1))
      : undefined;
    if (!owner) {
      message.ack();
      continue;
    }
    arrivals.set(id as string, [...(arrivals.get(id as string) ?? []), batch.queue]);
    groups.set(owner, [...(groups.get(owner) ?? []), message]);
  }
  await Promise.all([...groups].map(([consume, messages]) => consume({ queue: batch.queue, messages }, env)));
}

/**
 * What `bus.handleBatch` does, built on the `dispatch` a driver receives in `start()`. Batches
 * are run by a loop started from the test (in `start()`), not inside the `queue()` invocation:
 * workerd ties an `AbortController` to the request that made it, and the suite's `stop()` tests
 * abort handlers from the test's request.
 */
class DispatchRunner {
  dispatch: Dispatch | undefined;
  stopping = false;
  readonly inflight = new Set<Promise<unknown>>();
  readonly #waiting: { messages: readonly BatchMessage[]; done: (result: BatchResult) => void }[] = [];
  #loop: ReturnType<typeof setInterval> | undefined;

  start(dispatch: Dispatch): void {
    this.dispatch = dispatch;
    this.#loop ??= setInterval(() => {
      for (const { messages, done } of this.#waiting.splice(0)) {
        const run = this.#run(messages).then(done);
        this.inflight.add(run);
        run.finally(() => this.inflight.delete(run));
      }
    }, 2);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    while (this.#waiting.length > 0 || this.inflight.size > 0) {
      await Promise.allSettled([...this.inflight]);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    clearInterval(this.#loop);
  }

  /**
   * Runs in the `queue()` invocation: it polls with its own timer rather than awaiting a promise
   * settled by the test's request, which workerd would take for a hung invocation.
   */
  handle = async (messages: readonly BatchMessage[]): Promise<BatchResult> => {
    let result: BatchResult | undefined;
    if (!this.#loop || this.stopping) return this.#refuse(messages);
    this.#waiting.push({ messages, done: (r) => (result = r) });
    while (!result) await new Promise((resolve) => setTimeout(resolve, 2));
    return result;
  };

  /** A batch for a bus that is gone: every message to be retried later. */
  #refuse(messages: readonly BatchMessage[]): BatchResult {
    const failures: BatchFailure[] = [];
    const invalid: string[] = [];
    for (const message of messages) {
      const envelope = readEnvelope(message.body);
      if (envelope) failures.push({ id: message.id, retryAt: Date.now() + 1_000, delay: 1_000, envelope });
      else invalid.push(message.id);
    }
    return { failures, invalid };
  }

  async #run(messages: readonly BatchMessage[]): Promise<BatchResult> {
    const failures: BatchFailure[] = [];
    const invalid: string[] = [];
    await Promise.all(messages.map(async (message) => {
      const sent = readEnvelope(message.body);
      if (!sent || !this.dispatch) return void invalid.push(message.id);
      const envelope = { ...sent, attempt: sent.attempt + (message.attempts ?? 1) - 1 };
      if (this.stopping) return void failures.push({ id: message.id, retryAt: Date.now(), delay: 0, envelope });
      try {
        const outcome = await this.dispatch(envelope);
        if (outcome.status === "retry") {
          failures.push({
            id: message.id,
            retryAt: outcome.at,
            delay: Math.max(0, outcome.at - Date.now()),
            envelope: outcome.envelope,
          });
        }
      } catch {
        failures.push({ id: message.id, retryAt: Date.now() + 1_000, delay: 1_000, envelope });
      }
    }));
    return { failures, invalid };
  }
}

/**
 * A driver for the conformance suite, which makes the bus itself and hands the test only the
 * driver: its events reach that bus through the `dispatch` given to `start()`, and `stop()`
 * waits for the batches under way, as `bus.stop()` does for `bus.handleBatch`.
 *
 * @param options driver options
 * @returns the driver
 */
export function conformanceDriver(options: CloudflareDriverOptions = {}): CloudflareDriver {
  const base = cloudflareDriver({ prefix: freshPrefix("conformance"), ...options });
  const runner = new DispatchRunner();
  const consume: Consume = (batch) =>
    consumeBatch(batch, { driver: tracked, handle: runner.handle, deadLetterQueues: ["edgebus-dlq"] });
  const tracked: CloudflareDriver = track({
    ...base,
    start(dispatch, handlers) {
      runner.start(dispatch);
      return base.start(dispatch, handlers);
    },
    async stop() {
      await runner.stop();
      await base.stop();
    },
  }, () => consume);
  return tracked;
}

/** A bus on a fresh Cloudflare driver, with the Worker handlers `worker()` makes for it. */
export interface Setup {
  readonly driver: CloudflareDriver;
  readonly bus: Bus;
  readonly handlers: EdgebusWorker;
}

/**
 * Makes a bus as a Worker author does, with `worker()`, on a fresh object prefix; its events
 * reach its own `queue()` handler.
 *
 * @param options driver options
 * @param busOptions bus options
 * @returns the driver, the bus and the handlers
 */
export function setup(options: CloudflareDriverOptions = {}, busOptions: Omit<BusOptions, "driver"> = {}): Setup {
  const driver = track(cloudflareDriver({ prefix: freshPrefix("worker"), ...options }), () => consume);
  const bus = createBus({ retry: { minDelay: 50, maxDelay: 50, jitter: 0, maxAttempts: 3 }, ...busOptions, driver });
  const handlers = worker(bus, { driver });
  const consume: Consume = (batch, env) => handlers.queue(batch, env, { waitUntil: () => {} });
  return { driver, bus, handlers };
}

/** Waits until the record of `id` has `status`. */
export function settled(bus: Bus, id: string, status: EventStatus, ms = 10_000): Promise<EventRecord> {
  return eventually(async () => {
    const record = await bus.get(id);
    return record?.status === status ? record : undefined;
  }, ms);
}
