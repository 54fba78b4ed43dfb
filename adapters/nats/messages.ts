import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";

/**
 * The first message on `subject` (wildcards allowed) at or after sequence `seq`, or `null`.
 * A direct get (the driver's streams allow them), answered by the stream without the JetStream
 * API.
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
