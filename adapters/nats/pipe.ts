import { createInbox, type Msg, type MsgHdrs, type NatsConnection } from "@nats-io/nats-core";

/** A JetStream publish acknowledgement. */
export interface Ack {
  readonly stream: string;
  readonly seq: number;
  readonly duplicate: boolean;
}

/** A stored message found by a direct get. */
export interface Found {
  readonly seq: number;
  readonly data: Uint8Array;
}

/**
 * The JetStream requests of the hot path (a publish, a direct get of a subject's last message),
 * made over one reply subscription per connection. nats.js's `js.publish` and
 * `jsm.direct.getMessage` do the same with a request object, a timer, a header object and an
 * error made ahead per request: measured on Bun over WebSocket, 11–15 µs of the client's CPU a
 * publish, against 5–6 µs here. Replies, reconnects and the protocol stay nats.js's.
 */
export interface Pipe {
  /**
   * Publishes to a stream and waits for its acknowledgement.
   *
   * @param subject the subject
   * @param data the payload
   * @param headers header names and values (ASCII, no line breaks)
   * @param timeout ms to wait for the acknowledgement
   * @returns the acknowledgement
   * @throws an error with `api_error` (nats.js's shape) when JetStream refused the message,
   * `no responders` when no stream listens (or none has a leader), `timeout` when nobody answered
   */
  publish(
    subject: string,
    data: Uint8Array,
    headers: readonly (readonly [string, string])[],
    timeout: number,
  ): Promise<Ack>;
  /**
   * The last message on a subject of a stream (a direct get: any replica answers).
   *
   * @param stream the stream
   * @param subject the subject
   * @param timeout ms to wait for the answer
   * @returns the message, or `undefined` when the subject holds none
   */
  last(stream: string, subject: string, timeout: number): Promise<Found | undefined>;
}

interface Waiting {
  /** The subject the request went to, to match a refusal of the publish. */
  readonly subject: string;
  readonly resolve: (msg: Msg) => void;
  readonly reject: (error: Error) => void;
  readonly deadline: number;
}

/** The header of a message id (deduplicated within the stream's window). */
export const MSG_ID = "Nats-Msg-Id";
/** The header of a compare-and-set on the last sequence of the message's subject (0: none yet). */
export const LAST_SUBJECT_SEQUENCE = "Nats-Expected-Last-Subject-Sequence";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** ms between checks for requests nobody answered. */
const SWEEP_EVERY = 100;

/** The error for an answer that carries a status instead of a reply (503: no responders). */
function statusError(msg: Msg): Error | undefined {
  const code = msg.headers?.code ?? 0;
  if (code === 0 || code === 404) return undefined;
  return new Error(code === 503 ? "no responders" : `NATS answered ${code} ${msg.headers?.description ?? ""}`.trim());
}

/** A JetStream API error as nats.js shapes it, so that callers read its `err_code` either way. */
function apiError(error: { code?: number; err_code?: number; description?: string }): Error {
  const description = error.description ?? "JetStream refused the request";
  return Object.assign(new Error(description), { api_error: error, code: error.err_code });
}

/** Header bytes as nats.js writes them. */
function headerBytes(headers: readonly (readonly [string, string])[]): MsgHdrs {
  let text = "NATS/1.0\r\n";
  for (const [name, value] of headers) text += `${name}: ${value}\r\n`;
  const bytes = encoder.encode(`${text}\r\n`);
  // nats.js only ever asks a publish's headers for their bytes.
  return { encode: () => bytes } as unknown as MsgHdrs;
}

const pipes = new WeakMap<object, Pipe>();

const byConnection = new WeakMap<NatsConnection, Pipe>();

/**
 * The pipe of a connection, opened on first use and ended with the connection.
 *
 * @param nc the connection
 * @returns the pipe
 */
export function pipeFor(nc: NatsConnection): Pipe {
  let pipe = byConnection.get(nc);
  if (!pipe) byConnection.set(nc, pipe = openPipe(nc));
  return pipe;
}

function openPipe(nc: NatsConnection): Pipe {
  // The connection's own inbox prefix, which the server's permissions may require.
  const inbox = createInbox((nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
  const prefix = `${inbox}.`;
  const waiting = new Map<number, Waiting>();
  let next = 0;
  let sweeper: ReturnType<typeof setInterval> | undefined;
  let ended: Error | undefined;

  // One check every SWEEP_EVERY ms while requests wait, rather than a timer per request.
  const sweep = (): void => {
    const now = Date.now();
    for (const [n, w] of waiting) {
      if (w.deadline > now) continue;
      waiting.delete(n);
      w.reject(new Error("timeout"));
    }
    if (waiting.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };
  // Ends the pipe: what waits and what comes later is refused with the reason.
  const end = (reason: Error): void => {
    ended ??= reason;
    clearInterval(sweeper);
    sweeper = undefined;
    for (const w of waiting.values()) w.reject(ended);
    waiting.clear();
  };
  nc.subscribe(`${inbox}.*`, {
    callback: (error, msg) => {
      // The server refused the subscription (a permissions violation): no answer can come.
      if (error) return end(error);
      const n = Number(msg.subject.slice(prefix.length));
      const w = waiting.get(n);
      if (!w) return; // answered after its timeout
      waiting.delete(n);
      w.resolve(msg);
    },
  });
  nc.closed().then(() => end(new Error("connection closed")));
  // A request the server refused to take (a permissions violation on its subject) fails at once,
  // as nats.js's own requests do, rather than at its timeout.
  (async () => {
    for await (const status of nc.status()) {
      if (status.type !== "error") continue;
      const refused = status.error as Error & { operation?: string; subject?: string };
      if (refused.operation !== "publish") continue;
      for (const [n, w] of waiting) {
        if (w.subject !== refused.subject) continue;
        waiting.delete(n);
        w.reject(refused);
      }
    }
  })().catch(() => {});

  const request = (subject: string, data: Uint8Array, headers: MsgHdrs | undefined, timeout: number) =>
    new Promise<Msg>((resolve, reject) => {
      if (ended) return reject(ended);
      const n = ++next;
      nc.publish(subject, data, { reply: prefix + n, ...(headers ? { headers } : {}) });
      waiting.set(n, { subject, resolve, reject, deadline: Date.now() + timeout });
      sweeper ??= setInterval(sweep, SWEEP_EVERY);
    });

  return {
    async publish(subject, data, headers, timeout) {
      const msg = await request(subject, data, headerBytes(headers), timeout);
      const status = statusError(msg);
      if (status) throw status;
      const answer = JSON.parse(decoder.decode(msg.data));
      if (answer.error) throw apiError(answer.error);
      return { stream: answer.stream, seq: answer.seq, duplicate: answer.duplicate === true };
    },
    async last(stream, subject, timeout) {
      const query = encoder.encode(JSON.stringify({ last_by_subj: subject }));
      const msg = await request(`$JS.API.DIRECT.GET.${stream}`, query, undefined, timeout);
      const status = statusError(msg);
      if (status) throw status;
      if (msg.headers?.code === 404) return undefined;
      const seq = Number(msg.headers?.get("Nats-Sequence"));
      if (!Number.isSafeInteger(seq) || seq <= 0) throw new Error(`A direct get of ${subject} answered no sequence`);
      return { seq, data: msg.data };
    },
  };
}

/**
 * Lets the JetStream client and manager of a connection reach its pipe.
 *
 * @param pipe the connection's pipe
 * @param owners its JetStream client and manager
 */
export function attachPipe(pipe: Pipe, ...owners: object[]): void {
  for (const owner of owners) pipes.set(owner, pipe);
}

/**
 * The pipe of a JetStream client or manager, when the driver made them (others go through
 * nats.js's own calls).
 *
 * @param owner a JetStream client or manager
 * @returns its pipe, if any
 */
export function pipeOf(owner: object): Pipe | undefined {
  return pipes.get(owner);
}
