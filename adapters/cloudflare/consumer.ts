import type { BatchMessage, BatchResult } from "../../mod.ts";
import { type EventRecord, type HandlerResult, isFinal, readEnvelope } from "../../driver/mod.ts";
import type { CloudflareDriver } from "./driver.ts";
import { storedId } from "./message.ts";
import type { QueueBatch, QueueMessage } from "./platform.ts";

/** What consuming a batch needs. */
export interface ConsumerOptions {
  /** The bus's driver. */
  readonly driver: CloudflareDriver;
  /** Runs the messages: `bus.handleBatch`. */
  readonly handle: (messages: readonly BatchMessage[]) => Promise<BatchResult>;
  /** Names of queues that are dead-letter queues of edgebus queues. */
  readonly deadLetterQueues: readonly string[];
}

/** The most `retry({ delaySeconds })` accepts. */
const MAX_RETRY_DELAY = 86_400;
/** The handler id under which a dead letter from Cloudflare's dead-letter queue says why. */
export const CONSUMER_HANDLER = "edgebus:consumer";

function retryLater(message: QueueMessage, delayMs: number): void {
  message.retry({ delaySeconds: Math.min(MAX_RETRY_DELAY, Math.max(0, Math.ceil(delayMs / 1000))) });
}

/**
 * Runs a batch from an edgebus queue: each message on its own, acknowledged on its own. A
 * handler failure becomes a new message for the next attempt (so that retries follow the bus's
 * policy, however long, and never count against the queue's `max_retries`), and the old one is
 * acknowledged. Only a message the consumer itself cannot process (the store is unreachable, the
 * new message cannot be sent) is retried by Queues; after `max_retries` Queues moves it to the
 * dead-letter queue, which {@linkcode buryBatch} turns into a dead letter.
 *
 * @param batch the batch from the platform
 * @param options the driver, the handler runner and the dead-letter queue names
 */
export async function consumeBatch(batch: QueueBatch, options: ConsumerOptions): Promise<void> {
  const { driver, handle, deadLetterQueues } = options;
  if (deadLetterQueues.includes(batch.queue)) return await buryBatch(batch, driver);
  const restored: { message: QueueMessage; body: unknown }[] = [];
  await Promise.all(batch.messages.map(async (message) => {
    try {
      const body = await driver.restore(message.body);
      if (body === undefined) {
        console.error(`edgebus: message ${message.id} names a stored event that no longer exists; dropped`);
        message.ack();
      } else restored.push({ message, body });
    } catch {
      retryLater(message, 1_000 * message.attempts);
    }
  }));
  const running = inFlight(driver);
  const runnable = claim(restored, running);
  let result: BatchResult;
  try {
    result = await handle(runnable.map(({ message, body }) => ({ id: message.id, body, attempts: message.attempts })));
  } finally {
    // Released before any next attempt is sent: that message may arrive at once, and must run.
    for (const { id } of runnable) if (id !== undefined) running.delete(id);
  }
  await settle(runnable, result, driver);
}

/** Event ids being dispatched in this isolate, per driver. */
const dispatching = new WeakMap<CloudflareDriver, Set<string>>();

function inFlight(driver: CloudflareDriver): Set<string> {
  let set = dispatching.get(driver);
  if (!set) dispatching.set(driver, set = new Set());
  return set;
}

interface Runnable {
  readonly message: QueueMessage;
  readonly body: unknown;
  /** The event id, claimed in the isolate's in-flight set; undefined when not an envelope. */
  readonly id: string | undefined;
}

/**
 * Keeps one message per event among those not already being dispatched in this isolate, and
 * acknowledges the other copies. Queues does not drop messages by id, and a publish of an id
 * whose record is still undelivered sends it again (the core's recovery of a half-done
 * publish), so two copies of one event can arrive together; dispatched at once, both would read
 * the record before either saved it and run its handlers twice. The copy that runs covers the
 * others: it settles the record, or hands on a new message, or is itself retried by Queues. Of
 * copies in one batch the highest attempt runs.
 */
function claim(restored: readonly { message: QueueMessage; body: unknown }[], running: Set<string>): Runnable[] {
  const chosen = new Map<string, { message: QueueMessage; body: unknown; attempt: number }>();
  const runnable: Runnable[] = [];
  for (const { message, body } of restored) {
    const envelope = readEnvelope(body);
    if (!envelope) {
      runnable.push({ message, body, id: undefined });
      continue;
    }
    if (running.has(envelope.id)) {
      message.ack();
      continue;
    }
    const attempt = envelope.attempt + message.attempts - 1;
    const other = chosen.get(envelope.id);
    if (!other) chosen.set(envelope.id, { message, body, attempt });
    else if (attempt > other.attempt) {
      other.message.ack();
      chosen.set(envelope.id, { message, body, attempt });
    } else message.ack();
  }
  for (const [id, { message, body }] of chosen) {
    running.add(id);
    runnable.push({ message, body, id });
  }
  return runnable;
}

/** Acknowledges what ran, sends the next attempt of what failed, forgets finished bodies. */
async function settle(runnable: readonly Runnable[], result: BatchResult, driver: CloudflareDriver): Promise<void> {
  const { failures, invalid } = result;
  const failed = new Map(failures.map((f) => [f.id, f]));
  const rejected = new Set(invalid);
  const finished: string[] = [];
  await Promise.all(runnable.map(async ({ message, body }) => {
    const failure = failed.get(message.id);
    if (!failure) {
      if (rejected.has(message.id)) console.error(`edgebus: message ${message.id} is not an edgebus event; dropped`);
      const stored = storedId(message.body);
      if (stored !== undefined) finished.push(stored);
      return message.ack();
    }
    const sentAttempt = (readEnvelope(body)?.attempt ?? 1) + message.attempts - 1;
    if (failure.envelope.attempt > sentAttempt) {
      try {
        await driver.send([failure.envelope]);
        return message.ack();
      } catch (error) {
        console.error(`edgebus: could not re-send event ${failure.envelope.id}; Queues will retry it`, error);
      }
    }
    retryLater(message, failure.delay);
  }));
  await driver.forget(finished).catch((error) => console.error("edgebus: could not remove stored bodies", error));
}

function buried(record: EventRecord, message: QueueMessage, queue: string, now: number): EventRecord {
  const handlers: Record<string, HandlerResult> = {};
  for (const [id, result] of Object.entries(record.handlers)) {
    handlers[id] = result.status === "failed"
      ? { status: "dead", attempts: result.attempts, error: result.error, finishedAt: result.finishedAt }
      : result;
  }
  handlers[CONSUMER_HANDLER] = {
    status: "dead",
    attempts: message.attempts,
    error: {
      name: "ConsumerError",
      message: `The queue consumer failed on this event until Queues moved it to the dead-letter queue "${queue}"`,
    },
    finishedAt: now,
  };
  return { ...record, status: "dead", handlers, updatedAt: now };
}

/**
 * Turns the messages of a dead-letter queue (messages the consumer failed on `max_retries`
 * times) into dead letters in the store, where `bus.deadLetters` lists them, and acknowledges
 * them.
 *
 * @param batch the batch from the dead-letter queue
 * @param driver the bus's driver
 */
export async function buryBatch(batch: QueueBatch, driver: CloudflareDriver): Promise<void> {
  await Promise.all(batch.messages.map(async (message) => {
    try {
      const envelope = readEnvelope(await driver.restore(message.body));
      if (!envelope) {
        console.error(`edgebus: dead-letter message ${message.id} is not an edgebus event; dropped`);
        return message.ack();
      }
      const now = driver.now();
      const record = await driver.store.get(envelope.id);
      if (!record || !isFinal(record.status)) {
        const base: EventRecord = record ?? { ...envelope, status: "pending", handlers: {}, updatedAt: now };
        await driver.store.put(buried(base, message, batch.queue, now));
      }
      await driver.forget(storedId(message.body) === undefined ? [] : [envelope.id]);
      message.ack();
    } catch (error) {
      console.error(`edgebus: could not record dead letter ${message.id}; Queues will retry it`, error);
      retryLater(message, 1_000 * message.attempts);
    }
  }));
}
