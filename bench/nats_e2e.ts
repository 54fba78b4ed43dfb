/**
 * Publish-to-handler-done throughput and latency on the NATS driver, in the same run (same
 * server, transport, 100 publishes in flight), against two nats.js peers:
 * 1. the raw loop: `js.publish` to one subject, a durable consumer, `ack`;
 * 2. the same JetStream operations as edgebus, made with nats.js's own calls: the publish as a
 *    compare-and-set on the event's own subject with a message id, and per message a direct get
 *    of the event's outcome, a compare-and-set write of it, then the ack. This is the floor of
 *    edgebus's data model (an outcome read and written per handler run), apart from its code.
 *
 * With 100 publishes in flight, a consumer slower than the publisher falls behind, and the
 * latency figures then measure the backlog. The paced rows publish at a fixed rate that every
 * system keeps up with, so their latency is one event's own path.
 *
 * Run: `npx bun bench/nats_e2e.ts`, `npx deno run -A bench/nats_e2e.ts [--tcp]`.
 * `COUNT` sets the events of each saturated run (default 20,000).
 */
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { createBus } from "../mod.ts";
import { type ConnectFn, natsDriver } from "../adapters/nats/mod.ts";
import { startNatsServer } from "../test/nats/server.ts";
import { row } from "./lib.ts";
import { percentile, pipelined, rate, rawConnection, reach, RUNTIME } from "./nats_common.ts";

const COUNT = Number(globalThis.process?.env?.COUNT ?? 20_000);
const IN_FLIGHT = 100;
/** Paced runs: this many events a second, for this many events. */
const PACE = 2_000;
const PACED_COUNT = 4_000;
const body = { data: "x".repeat(245) };
const encoder = new TextEncoder();

/** A system under test: publishes event `i`, and calls `done(i)` when its handler finished. */
interface System {
  publish(i: number): Promise<unknown>;
  stop(): Promise<void>;
}
type Make = (servers: string, connect: ConnectFn, done: (i: number) => void, tag: string) => Promise<System>;

interface Run {
  throughput: number;
  latency: number[];
}

/** Runs `count` events through a fresh system, `inFlight` publishes at once or at `pace` a second. */
async function measure(
  make: Make,
  servers: string,
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
const rawLoop: Make = async (servers, connect, done, tag) => {
  const raw = await rawConnection(connect, servers, "raw");
  const jsm = await jetstreamManager(raw);
  const stream = `RAW${tag}`;
  await jsm.streams.add({ name: stream, subjects: [`raw${tag}.>`] });
  await jsm.consumers.add(stream, { durable_name: "w", ack_policy: AckPolicy.Explicit, max_ack_pending: 10_000 });
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
 * on the event's subject; per message a direct get of its outcome, a compare-and-set write of
 * the outcome, then the ack, as many at once as edgebus's default concurrency (64).
 */
const sameOperations: Make = async (servers, connect, done, tag) => {
  const raw = await rawConnection(connect, servers, "raw-same");
  const jsm = await jetstreamManager(raw);
  const [events, outcomes] = [`EV${tag}`, `OUT${tag}`];
  await jsm.streams.add({ name: events, subjects: [`ev${tag}.>`], allow_direct: true });
  await jsm.streams.add({ name: outcomes, subjects: [`out${tag}.>`], allow_direct: true, max_msgs_per_subject: 1 });
  await jsm.consumers.add(events, {
    durable_name: "h",
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 10_000,
    filter_subject: `ev${tag}.e.*`,
  });
  const js = jetstream(raw);
  const messages = await (await js.consumers.get(events, "h")).consume({ max_messages: 64 });
  const outcome = encoder.encode(JSON.stringify({ handlers: { h: { status: "done", attempts: 1 } } }));
  (async () => {
    for await (const m of messages) {
      const id = m.subject.slice(m.subject.lastIndexOf(".") + 1);
      (async () => {
        const found = await jsm.direct.getMessage(outcomes, { last_by_subj: `out${tag}.${id}` });
        await js.publish(`out${tag}.${id}`, outcome, { expect: { lastSubjectSequence: found?.seq ?? 0 } });
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

const edgebus: Make = async (servers, connect, done, tag) => {
  const bus = createBus({ driver: natsDriver({ servers, connect, prefix: `e2e${tag}` }) });
  bus.on("bench.event", (event) => {
    const i = (event.body as { i: number }).i;
    // The handler's result is saved after it returns: count it done on the next turn.
    queueMicrotask(() => done(i));
  });
  await bus.start();
  return { publish: (i) => bus.publish("bench.event", { i, ...body }), stop: () => bus.stop() };
};

const server = await startNatsServer();
const { servers, connect, transport } = reach(server);
try {
  const systems: [string, Make][] = [["raw consume+ack", rawLoop], ["same operations", sameOperations], [
    "edgebus",
    edgebus,
  ]];
  const saturated: Run[] = [];
  const paced: Run[] = [];
  let tag = 0;
  for (const [, make] of systems) saturated.push(await measure(make, servers, connect, `s${tag++}`, COUNT));
  for (const [, make] of systems) {
    paced.push(await measure(make, servers, connect, `p${tag++}`, PACED_COUNT, PACE));
  }
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  console.log(`nats publish -> handler done (${RUNTIME}, ${transport}, ${COUNT} events, ${IN_FLIGHT} in flight)`);
  systems.forEach(([name], k) => {
    const [s, p] = [saturated[k], paced[k]];
    console.log(
      `  ${name.padEnd(16)} ${rate(s.throughput)}  p50 ${ms(percentile(s.latency, 50))}  p99 ${
        ms(percentile(s.latency, 99))
      }  | at ${PACE}/s: p50 ${ms(percentile(p.latency, 50))}  p99 ${ms(percentile(p.latency, 99))}`,
    );
  });
  const [raw, same, bus] = saturated;
  const label = `over ${transport}, ${IN_FLIGHT} in flight`;
  row(
    `publish → handler done ${label}, events/s (vs raw consume+ack)`,
    rate(bus.throughput),
    rate(raw.throughput),
    (bus.throughput / raw.throughput).toFixed(2),
  );
  row(
    `publish → handler done ${label}, events/s (vs nats.js making edgebus's JetStream operations)`,
    rate(bus.throughput),
    rate(same.throughput),
    (bus.throughput / same.throughput).toFixed(2),
  );
  row(
    `nats.js making edgebus's JetStream operations ${label}, events/s (vs raw consume+ack)`,
    rate(same.throughput),
    rate(raw.throughput),
    (same.throughput / raw.throughput).toFixed(2),
  );
  for (const p of [50, 99]) {
    const [b, r] = [percentile(bus.latency, p), percentile(raw.latency, p)];
    row(`publish → handler done ${label}, p${p} ms (vs raw)`, b.toFixed(1), r.toFixed(1), (b / r).toFixed(2));
  }
  const [rawPaced, , busPaced] = paced;
  for (const p of [50, 99]) {
    const [b, r] = [percentile(busPaced.latency, p), percentile(rawPaced.latency, p)];
    row(
      `publish → handler done over ${transport}, paced at ${PACE.toLocaleString("en-US")}/s, p${p} ms (vs raw)`,
      b.toFixed(2),
      r.toFixed(2),
      (b / r).toFixed(2),
    );
  }
} finally {
  await server.stop();
}
