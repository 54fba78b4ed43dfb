import { jetstream, type JetStreamClient, type JetStreamManager, type PubAck } from "@nats-io/jetstream";
import { headers as makeHeaders, type NatsConnection } from "@nats-io/nats-core";
import type { Envelope } from "../../mod.ts";
import { BUCKET_MS, bucketSubject, cancelSubject, msgId, type Names, routeOf } from "./names.ts";

/** Header of a scheduled message: the event subject it moves to when due. */
export const SUBJECT_HEADER = "Edgebus-Subject";
/** Header of a scheduled message: the `Nats-Msg-Id` it is moved with. */
export const MSG_ID_HEADER = "Edgebus-Msg-Id";
/** Header of a scheduled message: its due time, epoch ms. */
export const DUE_HEADER = "Edgebus-Due";
/** Header of a scheduled message: the event id, to check for a cancellation. */
export const ID_HEADER = "Edgebus-Id";
/** Header of a cancellation mark in a schedule bucket: the id of the event not to move. */
export const CANCEL_HEADER = "Edgebus-Cancel";
/** Header of a retry: only the group that failed runs it again. */
export const GROUP_HEADER = "Edgebus-Group";

/** Where a publish landed, to undo it when its batch fails. */
export interface Landed {
  readonly stream: string;
  readonly seq: number;
}

const encoder = new TextEncoder();

/**
 * Publishes one envelope: to its event stream when due within `lead` ms (the consumer holds it
 * back with a delayed nak until due), else to the schedule bucket of its due time. `lead` must
 * exceed the scheduler's, so that no event lands in a bucket the scheduler has already read.
 *
 * @param js the JetStream client
 * @param names the derived names
 * @param envelope what to publish
 * @param options the clock, the lead, the ack timeout and, for retries, the group
 * @returns the stream and sequence it was stored at
 */
export async function publishEnvelope(
  js: JetStreamClient,
  names: Names,
  envelope: Envelope,
  options: { now: number; lead: number; timeout: number; group?: string },
): Promise<Landed> {
  const { now, lead, timeout, group } = options;
  const target = `${routeOf(names, envelope.name).base}.${envelope.name}`;
  const id = msgId(envelope, group);
  const data = encoder.encode(JSON.stringify(envelope));
  const h = makeHeaders();
  if (group !== undefined) h.set(GROUP_HEADER, group);
  let ack: PubAck;
  if (envelope.due <= now + lead) {
    ack = await js.publish(target, data, { msgID: id, timeout, headers: h });
  } else {
    h.set(SUBJECT_HEADER, target);
    h.set(MSG_ID_HEADER, id);
    h.set(DUE_HEADER, String(envelope.due));
    h.set(ID_HEADER, envelope.id);
    const subject = bucketSubject(names, Math.floor(envelope.due / BUCKET_MS));
    ack = await js.publish(subject, data, { msgID: id, timeout, headers: h });
  }
  return { stream: ack.stream, seq: ack.seq };
}

/**
 * Publishes envelopes, all or none: when one fails, those already stored are deleted again
 * before the failure is reported.
 *
 * @param js the JetStream client
 * @param jsm the JetStream manager, to take back stored messages
 * @param names the derived names
 * @param envelopes what to publish
 * @param options as for {@linkcode publishEnvelope}
 */
export async function publishAll(
  js: JetStreamClient,
  jsm: JetStreamManager,
  names: Names,
  envelopes: readonly Envelope[],
  options: { now: number; lead: number; timeout: number; group?: string },
): Promise<void> {
  const results = await Promise.allSettled(
    // A re-sent first publish comes from the bus as attempt 1, so it carries the same
    // Nats-Msg-Id as the first send and the stream drops it if that one landed.
    envelopes.map((e) => publishEnvelope(js, names, e, options)),
  );
  const failed = results.find((r) => r.status === "rejected");
  if (!failed) return;
  const landed = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  await Promise.allSettled(landed.map((l) => jsm.streams.deleteMessage(l.stream, l.seq, false)));
  throw (failed as PromiseRejectedResult).reason;
}

/**
 * Tells every group that an event is cancelled: a mark in its schedule bucket, which the
 * scheduler reads before it moves the event, and a live message for a scheduler that already
 * holds it in its last seconds.
 *
 * @param nc the connection
 * @param names the derived names
 * @param id the event id
 * @param due its due time, when it went through the schedule stream
 * @param timeout ms to wait for JetStream's acknowledgement
 */
export async function publishCancel(
  nc: NatsConnection,
  names: Names,
  id: string,
  due: number | undefined,
  timeout: number,
): Promise<void> {
  if (due !== undefined) {
    const h = makeHeaders();
    h.set(CANCEL_HEADER, id);
    await jetstream(nc).publish(bucketSubject(names, Math.floor(due / BUCKET_MS)), new Uint8Array(0), {
      headers: h,
      timeout,
    });
  }
  nc.publish(cancelSubject(names), id);
  await nc.flush();
}
