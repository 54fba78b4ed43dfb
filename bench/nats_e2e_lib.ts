/**
 * Publish → handler done, measured alike for edgebus and its nats.js peers (see
 * `nats_e2e.ts` and `nats_cluster.ts`): each system publishes event `i` and reports when its
 * handler finished; a run keeps `IN_FLIGHT` publishes in flight, or publishes at a fixed pace.
 */
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { createBus } from "../mod.ts";
import { type ConnectFn, natsDriver } from "../adapters/nats/mod.ts";
import { pipelined, rawConnection } from "./nats_common.ts";

/** Publishes in flight in a saturated run. */
export const IN_FLIGHT = 100;
const body = { data: "x".repeat(245) };
const encoder = new TextEncoder();

/** A system under test: publishes event `i`, and calls `done(i)` when its handler finished. */
export interface System {
  publish(i: number): Promise<unknown>;
  stop(): Promise<void>;
}
export type Make = (
  servers: string | string[],
  connect: ConnectFn,
  done: (i: number) => void,
  tag: string,
) => Promise<System>;

export interface Run {
  throughput: number;
  latency: number[];
}

/** Runs `count` events through a fresh system, `inFlight` publishes at once or at `pace` a second. */
export async function measure(
  make: Make,
  servers: string | string[],
  connect: ConnectFn,
  tag: string,
  count: number,
  pace?: number,
): Promise<Run> {
  const sentAt = new Float64Array(count);
  const latency: number[] = [];
  let finish: () => void = () => {};
  const all = new Promise<void>((r) => (finish = r));
  const system = await make(servers, connect, (i) => {
    latency.push(performance.now() - sentAt[i]);
    if (latency.length === count) finish();
  }, tag);
  const send = (i: number): Promise<unknown> => {
    sentAt[i] = performance.now();
    return system.publish(i);
  };
  const started = performance.now();
  if (pace === undefined) await pipelined(count, IN_FLIGHT, send);
  else {
    // Every 10 ms, the events due by then: an open loop, as independent callers publish.
    const sends: Promise<unknown>[] = [];
    for (let next = 0; next < count;) {
      const due = Math.min(count, Math.floor(((performance.now() - started) / 1000) * pace) + 1);
      while (next < due) sends.push(send(next++));
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(sends);
  }
  await all;
  const throughput = count / ((performance.now() - started) / 1000);
  await system.stop();
  return { throughput, latency: latency.sort((a, b) => a - b) };
}

/** The raw loop: one subject, a durable consumer, ack. */
export const rawLoop = (replicas = 1): Make => async (servers, connect, done, tag) => {
  const raw = await rawConnection(connect, servers, "raw", true);
  const jsm = await jetstreamManager(raw);
  const stream = `RAW${tag}`;
  await jsm.streams.add({ name: stream, subjects: [`raw${tag}.>`], num_replicas: replicas });
  await jsm.consumers.add(stream, {
    durable_name: "w",
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 10_000,
    num_replicas: replicas,
  });
  const js = jetstream(raw);
  const messages = await (await js.consumers.get(stream, "w")).consume({ max_messages: 256 });
  (async () => {
    for await (const m of messages) {
      m.ack();
      done(Number(m.headers?.get("i") ?? m.string().slice(0, 8)));
    }
  })();
  return {
    publish: (i) => js.publish(`raw${tag}.event`, encoder.encode(String(i).padStart(8, "0") + JSON.stringify(body))),
    stop: async () => {
      messages.stop();
      await raw.close();
    },
  };
};

/**
 * edgebus's JetStream operations made with nats.js: a compare-and-set publish with a message id
 * on the event's subject; per message a compare-and-set write of its outcome on "nothing there
 * yet" (a first delivery, as edgebus writes it without reading first), then the ack. Messages are
 * pulled 64 at a time, as edgebus pulls with its default `concurrency`, and each is handled as
 * soon as it arrives.
 */
export const sameOperations = (replicas = 1): Make => async (servers, connect, done, tag) => {
  const raw = await rawConnection(connect, servers, "raw-same", true);
  const jsm = await jetstreamManager(raw);
  const [events, outcomes] = [`EV${tag}`, `OUT${tag}`];
  await jsm.streams.add({ name: events, subjects: [`ev${tag}.>`], allow_direct: true, num_replicas: replicas });
  await jsm.streams.add({
    name: outcomes,
    subjects: [`out${tag}.>`],
    allow_direct: true,
    max_msgs_per_subject: 1,
    num_replicas: replicas,
  });
  await jsm.consumers.add(events, {
    durable_name: "h",
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 10_000,
    filter_subject: `ev${tag}.e.*`,
    num_replicas: replicas,
  });
  const js = jetstream(raw);
  const messages = await (await js.consumers.get(events, "h")).consume({ max_messages: 64 });
  const outcome = encoder.encode(JSON.stringify({ handlers: { h: { status: "done", attempts: 1 } } }));
  (async () => {
    for await (const m of messages) {
      const id = m.subject.slice(m.subject.lastIndexOf(".") + 1);
      (async () => {
        await js.publish(`out${tag}.${id}`, outcome, { expect: { lastSubjectSequence: 0 } });
        m.ack();
        done(Number(id));
      })();
    }
  })();
  return {
    publish: (i) =>
      js.publish(`ev${tag}.e.${i}`, encoder.encode(JSON.stringify(body)), {
        msgID: `${tag}-${i}`,
        expect: { lastSubjectSequence: 0 },
      }),
    stop: async () => {
      messages.stop();
      await raw.close();
    },
  };
};

export const edgebus = (replicas = 1): Make => async (servers, connect, done, tag) => {
  const bus = createBus({ driver: natsDriver({ servers, connect, prefix: `e2e${tag}`, replicas }) });
  bus.on("bench.event", (event) => {
    const i = (event.body as { i: number }).i;
    // The handler's result is saved after it returns: count it done on the next turn.
    queueMicrotask(() => done(i));
  });
  await bus.start();
  return { publish: (i) => bus.publish("bench.event", { i, ...body }), stop: () => bus.stop() };
};
