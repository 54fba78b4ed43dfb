import type { ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { type Dispatch, type Envelope, readEnvelope } from "../../mod.ts";
import type { ConsumerSpec } from "./setup.ts";
import { GROUP_HEADER } from "./publish.ts";

/** What the pull loops need. */
export interface ConsumeDeps {
  readonly dispatch: Dispatch;
  readonly group: string;
  /** Events handled at once by this process, over all its consumers. */
  readonly concurrency: number;
  /** The consumers' ack wait, ms; a running handler says it is still working well before. */
  readonly ackWait: number;
  readonly now: () => number;
  /** Publishes the envelope of a retry, for this group only. */
  readonly retry: (envelope: Envelope) => Promise<void>;
}

/** Pull loops over this process's consumers. */
export interface Consumption {
  /** Takes no more messages, waits for those being handled, and returns. */
  stop(): Promise<void>;
}

/** A counting semaphore: at most `size` holders at once. */
function slots(size: number) {
  let free = size;
  const waiting: (() => void)[] = [];
  return {
    take: (): Promise<void> | undefined => {
      if (free > 0) {
        free--;
        return undefined;
      }
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    give: (): void => {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}

/**
 * Handles one message: holds back early arrivals with a delayed nak, skips retries of other
 * groups, runs `dispatch` while telling the server the handler is still
 * working, then acks (done, dead) or publishes the next attempt and acks (retry).
 */
async function handle(msg: JsMsg, deps: ConsumeDeps): Promise<void> {
  const envelope = readEnvelope(msg.string());
  if (!envelope) return msg.term(); // not an edgebus event: never redeliver it
  const group = msg.headers?.get(GROUP_HEADER);
  if (group && group !== deps.group) return msg.ack();
  const early = envelope.due - deps.now();
  if (early > 2) return msg.nak(early);
  const beat = setInterval(() => msg.working(), Math.max(100, Math.floor(deps.ackWait / 3)));
  try {
    const outcome = await deps.dispatch(envelope);
    if (outcome.status === "retry") await deps.retry(outcome.envelope);
    msg.ack();
  } catch {
    // The store or NATS failed mid-way: let the message come back a little later.
    msg.nak(1_000);
  } finally {
    clearInterval(beat);
  }
}

/**
 * Starts one pull loop per consumer; each message is handled on its own, at most
 * `concurrency` at once in this process.
 *
 * @param js the JetStream client
 * @param specs the consumers, already created
 * @param deps dispatch and the rest
 * @returns the running loops
 */
export async function startConsumers(
  js: JetStreamClient,
  specs: readonly ConsumerSpec[],
  deps: ConsumeDeps,
): Promise<Consumption> {
  const limit = slots(deps.concurrency);
  const running = new Set<Promise<void>>();
  let stopping = false;
  const streams: ConsumerMessages[] = [];
  for (const spec of specs) {
    const consumer = await js.consumers.get(spec.stream, spec.durable);
    streams.push(await consumer.consume({ max_messages: Math.min(deps.concurrency, 256) }));
  }

  const pull = async (messages: ConsumerMessages): Promise<void> => {
    for await (const msg of messages) {
      // Buffered messages that arrive while stopping go back at once for another process.
      if (stopping) {
        msg.nak();
        continue;
      }
      await limit.take();
      if (stopping) {
        limit.give();
        msg.nak();
        continue;
      }
      const job = handle(msg, deps).catch(() => {}).finally(() => {
        limit.give();
        running.delete(job);
      });
      running.add(job);
    }
  };
  const loops = streams.map((s) => pull(s));

  return {
    async stop() {
      stopping = true;
      for (const s of streams) s.stop();
      await Promise.all(loops);
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
