import type { JetStreamManager, MsgRequest, StoredMsg } from "@nats-io/jetstream";

/**
 * The first message on `subject` (wildcards allowed) at or after sequence `seq`, or `null`.
 * nats-server 2.9 answers `next_by_subj` on the stream message API; the client types only
 * declare it for direct gets, which need `allow_direct` streams.
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
  return jsm.streams.getMessage(stream, { next_by_subj: subject, seq } as unknown as MsgRequest);
}
