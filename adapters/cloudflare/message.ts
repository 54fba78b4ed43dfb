import type { Envelope } from "../../driver/mod.ts";
import type { QueueBinding, QueueSendRequest } from "./platform.ts";

/** Queues' limits that edgebus keeps to, as numbers. */
export interface QueueLimits {
  /** The largest message body, bytes. */
  readonly messageBytes: number;
  /** The most messages of one `sendBatch` call. */
  readonly batchMessages: number;
  /** The most bytes of one `sendBatch` call. */
  readonly batchBytes: number;
  /** Bytes of metadata counted per message. */
  readonly overhead: number;
}

/** Queues' documented limits, in bytes (1 KB = 1000 bytes), with room for the ~100 bytes of metadata. */
export const QUEUE_LIMITS: QueueLimits = Object.freeze({
  /** A message holds 128 KB. */
  messageBytes: 127_000,
  /** A `sendBatch` call holds 100 messages. */
  batchMessages: 100,
  /** A `sendBatch` call holds 256 KB in all. */
  batchBytes: 250_000,
  /** Overhead counted per message. */
  overhead: 100,
});

/** A queue message ready to send, and its size. */
export interface Encoded {
  /** The message body: the envelope, or a stand-in when the body is stored. */
  readonly body: Record<string, unknown>;
  /** Its JSON size in bytes. */
  readonly bytes: number;
  /** The whole envelope's JSON, when it is too large for a message and must be stored. */
  readonly stored?: string;
}

const encoder = new TextEncoder();

/**
 * Turns an envelope into a queue message. An envelope larger than a message may be (Queues:
 * 128 KB, the bus allows 256 KiB) travels as a stand-in that names it; its JSON is stored and
 * restored by the consumer.
 *
 * @param envelope the envelope
 * @param maxBytes the largest message, bytes
 * @returns the message
 */
export function encodeMessage(envelope: Envelope, maxBytes: number = QUEUE_LIMITS.messageBytes): Encoded {
  const json = JSON.stringify(envelope);
  const bytes = json.length * 3 < maxBytes ? json.length : encoder.encode(json).length;
  if (bytes <= maxBytes) return { body: envelope as unknown as Record<string, unknown>, bytes };
  const body = { ...envelope, body: null, edgebusStored: true };
  return { body, bytes: encoder.encode(JSON.stringify(body)).length, stored: json };
}

/**
 * Tells whether a message body is the stand-in of a stored envelope.
 *
 * @param body what the queue delivered
 * @returns the event id to restore, or undefined
 */
export function storedId(body: unknown): string | undefined {
  const b = body as { edgebusStored?: unknown; id?: unknown } | null;
  return typeof b === "object" && b !== null && b.edgebusStored === true && typeof b.id === "string" ? b.id : undefined;
}

/** A message to send now or after whole seconds. */
export interface Outgoing {
  /** The message body. */
  readonly body: unknown;
  /** Its JSON size in bytes. */
  readonly bytes: number;
  /** Whole seconds to hold it back. */
  readonly delaySeconds: number;
}

/**
 * Sends messages with as few `sendBatch` calls as Queues' limits allow (100 messages, 256 KB).
 *
 * @param queue the producer binding
 * @param messages the messages
 * @returns once every batch was accepted
 */
export async function sendAll(queue: QueueBinding, messages: readonly Outgoing[]): Promise<void> {
  let batch: QueueSendRequest[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = message.bytes + QUEUE_LIMITS.overhead;
    if (batch.length === QUEUE_LIMITS.batchMessages || (batch.length > 0 && bytes + size > QUEUE_LIMITS.batchBytes)) {
      await queue.sendBatch(batch);
      batch = [];
      bytes = 0;
    }
    batch.push({
      body: message.body,
      contentType: "json",
      ...(message.delaySeconds > 0 ? { delaySeconds: message.delaySeconds } : {}),
    });
    bytes += size;
  }
  if (batch.length > 0) await queue.sendBatch(batch);
}
