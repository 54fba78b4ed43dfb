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
  const metaBytes = metaLength(envelope);
  const size = metaBytes + byteLength(text, MAX_ENVELOPE_BYTES - metaBytes);
  if (size >= MAX_ENVELOPE_BYTES) {
    throw new EdgebusError(
      "too_large",
      `Cannot publish "${name}": the event is ${size} bytes as JSON (it must be below ${MAX_ENVELOPE_BYTES}); store large data elsewhere and send a reference`,
    );
  }
  (envelope as { body: Json }).body = JSON.parse(text) as Json;
  if (text.length >= KEEP_TEXT_FROM) {
    if (fresh.size === 0) queueMicrotask(forgetFresh);
    fresh.set(envelope, text);
  }
  return envelope;
}

/**
 * The body's JSON text that `createEnvelope` made for its size check, by envelope, for bodies of
 * at least `KEEP_TEXT_FROM` characters. Kept only until the current task's microtasks run: drivers
 * send in the same turn as the publish, and a pending event held in memory must not also hold it.
 * A small body is cheaper to write again than to keep (a map entry per event costs more than
 * stringifying a few hundred bytes).
 */
const KEEP_TEXT_FROM = 4_096;
const fresh = new Map<Envelope, string>();
function forgetFresh(): void {
  fresh.clear();
}

/** The JSON of a string that needs no escapes (checked names and ids): itself in quotes. */
const quoted = (text: string): string => `"${text}"`;

/**
 * An envelope's JSON with the body's JSON given, its fields in the order `createEnvelope` makes
 * them, as `JSON.stringify` writes them. Names, ids and correlation ids are checked to need no
 * escapes; causation ids and origins are escaped.
 */
function writeEnvelope(e: Envelope, body: string): string {
  const head = `{"id":${quoted(e.id)},"name":${quoted(e.name)},"body":${body}`;
  const times = `,"time":${e.time},"delay":${e.delay},"due":${e.due},"attempt":${e.attempt}`;
  const causation = e.causationId === undefined ? "" : `,"causationId":${JSON.stringify(e.causationId)}`;
  const origin = e.origin === undefined ? "" : `,"origin":${JSON.stringify(e.origin)}`;
  return `${head}${times},"correlationId":${quoted(e.correlationId)}${causation}${origin}}`;
}

/**
 * The bytes of a new envelope's JSON without its body (everything but the body is ASCII), counted
 * rather than written: the publish path checks every event's size, and most are never written
 * out as JSON in the same turn (the memory driver keeps objects).
 */
function metaLength(e: Envelope): number {
  let n = META_FIXED + e.id.length + e.name.length + e.correlationId.length;
  n += String(e.time).length + String(e.delay).length + String(e.due).length + String(e.attempt).length;
  if (e.causationId !== undefined) n += CAUSATION_KEY + JSON.stringify(e.causationId).length;
  if (e.origin !== undefined) n += ORIGIN_KEY + JSON.stringify(e.origin).length;
  return n;
}
/** The characters of an envelope's JSON that are always there: keys, quotes and punctuation. */
const META_FIXED = writeEnvelope(
  { id: "", name: "", body: null, time: 0, delay: 0, due: 0, attempt: 0, correlationId: "" },
  "",
).length - 4;
const CAUSATION_KEY = ',"causationId":'.length;
const ORIGIN_KEY = ',"origin":'.length;

/**
 * An envelope as JSON, for a driver to send or store: written around the body's JSON that
 * `createEnvelope` made when it checked the size, when asked in the same turn, or else
 * `JSON.stringify` of the envelope.
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
  const body = fresh.get(envelope);
  return body === undefined ? JSON.stringify(envelope) : writeEnvelope(envelope, body);
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
