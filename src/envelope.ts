import { type After, parseAfter } from "./after.ts";
import type { Envelope, EventRecord, EventStatus, HandlerResult } from "./driver.ts";
import { EdgebusError } from "./errors.ts";
import { assertId } from "./ids.ts";
import { assertJson, byteLength, type Json, MAX_ENVELOPE_BYTES } from "./json.ts";
import { assertName } from "./patterns.ts";

/** What a publish asks for, before it becomes an envelope. */
export interface Draft {
  /** The event name. */
  readonly name: string;
  /** The body, any JSON value. */
  readonly body?: unknown;
  /** When to deliver. */
  readonly after?: After;
  /** The idempotency key. */
  readonly id?: string;
  /** Ties events together; defaults to the event's id. */
  readonly correlationId?: string;
  /** The event whose handler published this one. */
  readonly causationId?: string;
  /** Where the event came from. */
  readonly origin?: string;
}

const ORIGIN = /^[\x20-\x7e]{1,256}$/;

/**
 * Checks a draft and makes its envelope: name, id, delay, body and size are all checked here,
 * before anything is stored or sent.
 *
 * @param draft what the publisher asked for
 * @param now the current time, epoch ms
 * @param newId makes an id when the draft has none
 * @returns the envelope, with the body after a JSON round trip
 * @throws {EdgebusError} `invalid_name`, `invalid_id`, `invalid_delay`, `not_serializable`,
 * `too_large`, `invalid_option`
 */
export function createEnvelope(draft: Draft, now: number, newId: () => string): Envelope {
  const { name, body, after, id, correlationId, causationId, origin } = draft;
  assertName(name);
  if (id !== undefined) assertId(id);
  if (correlationId !== undefined) assertId(correlationId);
  if (origin !== undefined && (typeof origin !== "string" || !ORIGIN.test(origin))) {
    throw new EdgebusError(
      "invalid_option",
      `Invalid origin ${JSON.stringify(origin)}: use 1 to 256 printable ASCII characters`,
    );
  }
  const due = after === undefined ? now : parseAfter(after, now);
  assertJson(name, body);
  const text = JSON.stringify(body ?? null);
  const eventId = id ?? newId();
  // One object shape for every envelope (absent fields are undefined), which engines like.
  const envelope: Envelope = {
    id: eventId,
    name,
    body: null,
    time: now,
    delay: due - now,
    due,
    attempt: 1,
    correlationId: correlationId ?? eventId,
    causationId,
    origin,
  };
  // Everything but the body is ASCII (names, ids and origins are checked), so chars are bytes.
  const meta = JSON.stringify(envelope);
  const metaBytes = meta.length - 4;
  const size = metaBytes + byteLength(text, MAX_ENVELOPE_BYTES - metaBytes);
  if (size >= MAX_ENVELOPE_BYTES) {
    throw new EdgebusError(
      "too_large",
      `Cannot publish "${name}": the event is ${size} bytes as JSON (it must be below ${MAX_ENVELOPE_BYTES}); store large data elsewhere and send a reference`,
    );
  }
  (envelope as { body: Json }).body = JSON.parse(text) as Json;
  if (fresh.size === 0) queueMicrotask(forgetFresh);
  fresh.set(envelope, [meta, text]);
  return envelope;
}

/**
 * The two JSON texts `createEnvelope` made for its size check (the envelope with a null body,
 * and the body), by envelope. Kept only until the current task's microtasks run: drivers send
 * in the same turn as the publish, and a pending event held in memory must not also hold them.
 */
const fresh = new Map<Envelope, readonly [meta: string, body: string]>();
const BODY_NULL = '"body":null';
function forgetFresh(): void {
  fresh.clear();
}

/**
 * An envelope as JSON, for a driver to send or store: the text `createEnvelope` made when it
 * checked the size, when asked in the same turn, or else `JSON.stringify` of the envelope.
 *
 * @param envelope the envelope
 * @returns its JSON
 *
 * @example
 * ```ts
 * import { createEnvelope, envelopeJson } from "@edgebus/edgebus/driver";
 * const envelope = createEnvelope({ name: "user.joined", body: { id: 1 } }, 0, () => "evt-1");
 * console.log(JSON.parse(envelopeJson(envelope)).body.id); // 1
 * ```
 */
export function envelopeJson(envelope: Envelope): string {
  const texts = fresh.get(envelope);
  if (!texts) return JSON.stringify(envelope);
  // Names and ids hold no quotes, so the first `"body":null` is the body's place.
  const [meta, body] = texts;
  const at = meta.indexOf(BODY_NULL) + 7; // just after `"body":`
  return meta.slice(0, at) + body + meta.slice(at + 4);
}

/**
 * A record of an envelope with the given state.
 *
 * @param envelope the envelope (or the record it came from)
 * @param status where the event stands
 * @param attempt attempts made
 * @param handlers results by handler id
 * @param updatedAt when, epoch ms
 * @param due when it is due next
 * @returns the record
 */
export function toRecord(
  envelope: Envelope,
  status: EventStatus,
  attempt: number,
  handlers: Readonly<Record<string, HandlerResult>>,
  updatedAt: number,
  due: number = envelope.due,
): EventRecord {
  const { id, name, body, time, delay, correlationId, causationId, origin } = envelope;
  return { id, name, body, time, delay, due, attempt, correlationId, causationId, origin, status, handlers, updatedAt };
}

/**
 * The first record of an envelope just published.
 *
 * @param envelope the envelope
 * @param now the current time
 * @returns a record that is `scheduled` when due later, else `pending`
 */
export function initialRecord(envelope: Envelope, now: number): EventRecord {
  return toRecord(envelope, envelope.due > now ? "scheduled" : "pending", 0, {}, now);
}

/**
 * The envelope inside a record.
 *
 * @param record the record
 * @returns its envelope fields, without status and results
 */
export function envelopeOf(record: EventRecord): Envelope {
  const { status: _s, handlers: _h, updatedAt: _u, noHandler: _n, ...envelope } = record;
  return envelope;
}

/**
 * Reads an envelope back from a transport: an object or JSON text with the envelope's fields.
 *
 * @param value what the transport carried
 * @returns the envelope, or `undefined` when it is not one
 */
export function readEnvelope(value: unknown): Envelope | undefined {
  let data = value;
  if (typeof value === "string") {
    try {
      data = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (typeof data !== "object" || data === null) return undefined;
  const e = data as Record<string, unknown>;
  const ok = typeof e.id === "string" && typeof e.name === "string" && typeof e.time === "number" &&
    typeof e.delay === "number" && typeof e.due === "number" && typeof e.attempt === "number" &&
    typeof e.correlationId === "string" && "body" in e;
  return ok ? data as Envelope : undefined;
}
