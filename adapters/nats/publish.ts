import type { JetStreamClient, JetStreamManager, PubAck } from "@nats-io/jetstream";
import { headers as makeHeaders, type MsgHdrs } from "@nats-io/nats-core";
import { type Envelope, envelopeJson } from "../../driver/mod.ts";
import { hasApiCode, WRONG_LAST_SEQUENCE } from "./errors.ts";
import { type Ack, LAST_SUBJECT_SEQUENCE, MSG_ID, pipeOf } from "./pipe.ts";
import { BUCKET_MS, bucketSubject, delayedSubject, eventSubject, type Names, retrySubject, routeOf } from "./names.ts";

/** Header of a scheduled message: the subject it moves to when due. */
export const SUBJECT_HEADER = "Edgebus-Subject";
/** Header of a scheduled message: the `Nats-Msg-Id` it is moved with. */
export const MSG_ID_HEADER = "Edgebus-Msg-Id";
/** Header of a scheduled message: its due time, epoch ms. */
export const DUE_HEADER = "Edgebus-Due";
/** Header of a scheduled message: the event id, to check for a cancellation before the move. */
export const ID_HEADER = "Edgebus-Id";
/** Header of an event moved from the schedule: not a first version (its first version is in the delayed stream). */
export const MOVED_HEADER = "Edgebus-Moved";

/** Where a publish landed, to undo it when its batch fails. */
export interface Landed {
  readonly stream: string;
  readonly seq: number;
}

const encoder = new TextEncoder();

/** Publishes with a compare-and-set on "no message on this subject yet"; undefined when there was one. */
async function publishNew(
  js: JetStreamClient,
  subject: string,
  data: Uint8Array,
  options: { msgID: string; timeout: number; headers?: MsgHdrs },
): Promise<Ack | undefined> {
  try {
    const pipe = options.headers ? undefined : pipeOf(js);
    const ack = pipe
      ? await pipe.publish(subject, data, [[MSG_ID, options.msgID], [LAST_SUBJECT_SEQUENCE, "0"]], options.timeout)
      : await js.publish(subject, data, { ...options, expect: { lastSubjectSequence: 0 } });
    return ack.duplicate ? undefined : ack;
  } catch (error) {
    if (hasApiCode(error, WRONG_LAST_SEQUENCE)) return undefined;
    throw error;
  }
}

/** A scheduled message: moved to `target` when due. */
export async function scheduleMove(
  js: JetStreamClient,
  names: Names,
  envelope: Envelope,
  target: string,
  msgId: string,
  timeout: number,
): Promise<PubAck> {
  const h = makeHeaders();
  h.set(SUBJECT_HEADER, target);
  h.set(MSG_ID_HEADER, msgId);
  h.set(DUE_HEADER, String(envelope.due));
  h.set(ID_HEADER, envelope.id);
  const subject = bucketSubject(names, Math.floor(envelope.due / BUCKET_MS));
  return await js.publish(subject, encoder.encode(JSON.stringify(envelope)), { msgID: msgId, timeout, headers: h });
}

/**
 * Publishes one new event: due within `lead` ms, one message on the event's own subject in its
 * stream (consumers hold it back with a delayed nak until due); later, a message in the schedule
 * bucket of its due second, then its first version in the delayed stream. Each write is a
 * compare-and-set on "nothing on this subject yet", so an id is published once for as long as
 * its event is kept, beyond JetStream's duplicate window.
 *
 * @param js the JetStream client
 * @param names the derived names
 * @param envelope what to publish
 * @param options the clock, the lead and the ack timeout
 * @param data the envelope as JSON bytes, when already made
 * @returns where it landed, or `undefined` when the id was already published
 */
export async function publishEnvelope(
  js: JetStreamClient,
  names: Names,
  envelope: Envelope,
  options: { now: number; lead: number; timeout: number },
  data: Uint8Array = encoder.encode(envelopeJson(envelope)),
): Promise<Landed[] | undefined> {
  const { now, lead, timeout } = options;
  const route = routeOf(names, envelope.name);
  if (envelope.due <= now + lead) {
    const ack = await publishNew(js, eventSubject(route, envelope.id), data, { msgID: envelope.id, timeout });
    return ack && [{ stream: ack.stream, seq: ack.seq }];
  }
  // The bucket first: a first version in the delayed stream then always has its move waiting.
  const target = eventSubject(route, envelope.id);
  const move = await scheduleMove(js, names, envelope, target, envelope.id, timeout);
  const ack = await publishNew(js, delayedSubject(names, envelope.id), data, { msgID: envelope.id, timeout });
  if (!ack) {
    // A duplicate: its own move is dropped by the mover (another first version is kept).
    return undefined;
  }
  return [{ stream: move.stream, seq: move.seq }, { stream: ack.stream, seq: ack.seq }];
}

/**
 * Publishes new events, all or none: when one fails, those already stored are deleted again
 * before the failure is reported.
 *
 * @param js the JetStream client
 * @param jsm the JetStream manager, to take back stored messages
 * @param names the derived names
 * @param envelopes what to publish
 * @param options as for {@linkcode publishEnvelope}
 * @param data the envelopes as JSON bytes, in the same order
 * @returns per envelope, true when published and false when its id was already
 */
export async function publishAll(
  js: JetStreamClient,
  jsm: JetStreamManager,
  names: Names,
  envelopes: readonly Envelope[],
  options: { now: number; lead: number; timeout: number },
  data: readonly Uint8Array[],
): Promise<boolean[]> {
  // One event (the usual publish): nothing to take back when it fails.
  if (envelopes.length === 1) return [(await publishEnvelope(js, names, envelopes[0], options, data[0])) !== undefined];
  const results = await Promise.allSettled(envelopes.map((e, i) => publishEnvelope(js, names, e, options, data[i])));
  const failed = results.find((r) => r.status === "rejected");
  if (!failed) return results.map((r) => (r as PromiseFulfilledResult<Landed[] | undefined>).value !== undefined);
  const landed = results.flatMap((r) => r.status === "fulfilled" ? r.value ?? [] : []);
  await Promise.allSettled(landed.map((l) => jsm.streams.deleteMessage(l.stream, l.seq, false)));
  throw (failed as PromiseRejectedResult).reason;
}

/**
 * Sends one handler's next attempt (or a replay) to that handler alone: on its retry subject,
 * at once or through the schedule when due later than `lead`.
 *
 * @param js the JetStream client
 * @param names the derived names
 * @param envelope the envelope of the attempt (its `due` is when)
 * @param key the handler key
 * @param msgId what makes this attempt unique (a repeat of the same is dropped)
 * @param options the clock, the lead and the ack timeout
 */
export async function publishRetry(
  js: JetStreamClient,
  names: Names,
  envelope: Envelope,
  key: string,
  msgId: string,
  options: { now: number; lead: number; timeout: number },
): Promise<void> {
  const target = retrySubject(routeOf(names, envelope.name), key, envelope.id);
  if (envelope.due <= options.now + options.lead) {
    await js.publish(target, encoder.encode(JSON.stringify(envelope)), { msgID: msgId, timeout: options.timeout });
  } else {
    await scheduleMove(js, names, envelope, target, msgId, options.timeout);
  }
}
