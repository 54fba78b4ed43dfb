/**
 * Publish-to-handler-done throughput and latency on the NATS driver, against a raw JetStream
 * consume-and-ack loop in the same run (same server, transport, 100 publishes in flight).
 *
 * Run: `npx bun bench/nats_e2e.ts`, `npx deno run -A bench/nats_e2e.ts`.
 */
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { createBus } from "../mod.ts";
import { type ConnectFn, natsDriver } from "../adapters/nats/mod.ts";
import { startNatsServer } from "../test/nats/server.ts";
import { row } from "./lib.ts";
import { percentile, pipelined, rate, rawConnection, reach, RUNTIME } from "./nats_common.ts";

const COUNT = Number(globalThis.process?.env?.COUNT ?? 5_000);
const IN_FLIGHT = 100;
const body = { data: "x".repeat(245) };

interface Run {
  throughput: number;
  latency: number[];
}

async function rawRun(servers: string, connect: ConnectFn): Promise<Run> {
  const raw = await rawConnection(connect, servers, "raw");
  const jsm = await jetstreamManager(raw);
  await jsm.streams.add({ name: "RAWE2E", subjects: ["rawe2e.>"] });
  await jsm.consumers.add("RAWE2E", { durable_name: "w", ack_policy: AckPolicy.Explicit, max_ack_pending: 10_000 });
  const js = jetstream(raw);
  const sentAt = new Float64Array(COUNT);
  const latency: number[] = [];
  let done = 0;
  let finish: () => void = () => {};
  const all = new Promise<void>((r) => (finish = r));
  const messages = await (await js.consumers.get("RAWE2E", "w")).consume({ max_messages: 256 });
  (async () => {
    for await (const m of messages) {
      const i = Number(m.headers?.get("i") ?? m.string().slice(0, 8));
      m.ack();
      latency.push(performance.now() - sentAt[i]);
      if (++done === COUNT) finish();
    }
  })();
  const started = performance.now();
  await pipelined(COUNT, IN_FLIGHT, (i) => {
    sentAt[i] = performance.now();
    return js.publish("rawe2e.event", new TextEncoder().encode(String(i).padStart(8, "0") + JSON.stringify(body)));
  });
  await all;
  const throughput = COUNT / ((performance.now() - started) / 1000);
  messages.stop();
  await raw.close();
  return { throughput, latency: latency.sort((a, b) => a - b) };
}

async function busRun(servers: string, connect: ConnectFn): Promise<Run> {
  const bus = createBus({ driver: natsDriver({ servers, connect, prefix: "e2e" }) });
  const sentAt = new Map<number, number>();
  const latency: number[] = [];
  let done = 0;
  let finish: () => void = () => {};
  const all = new Promise<void>((r) => (finish = r));
  bus.on("bench.event", (event) => {
    const i = (event.body as { i: number }).i;
    // The handler's result is saved after it returns: count it done on the next turn.
    queueMicrotask(() => {
      latency.push(performance.now() - sentAt.get(i)!);
      if (++done === COUNT) finish();
    });
  });
  await bus.start();
  const started = performance.now();
  await pipelined(COUNT, IN_FLIGHT, (i) => {
    sentAt.set(i, performance.now());
    return bus.publish("bench.event", { i, ...body });
  });
  await all;
  const throughput = COUNT / ((performance.now() - started) / 1000);
  await bus.stop();
  return { throughput, latency: latency.sort((a, b) => a - b) };
}

const server = await startNatsServer();
const { servers, connect, transport } = reach(server);
try {
  const raw = await rawRun(servers, connect);
  const bus = await busRun(servers, connect);
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  console.log(`nats publish -> handler done (${RUNTIME}, ${transport}, ${COUNT} events, ${IN_FLIGHT} in flight)`);
  console.log(
    `  raw consume+ack: ${rate(raw.throughput)}  p50 ${ms(percentile(raw.latency, 50))}  p99 ${
      ms(percentile(raw.latency, 99))
    }`,
  );
  console.log(
    `  edgebus:         ${rate(bus.throughput)}  p50 ${ms(percentile(bus.latency, 50))}  p99 ${
      ms(percentile(bus.latency, 99))
    }`,
  );
  console.log(`  throughput ratio ${(bus.throughput / raw.throughput).toFixed(2)}`);
  const label = `over ${transport}, ${IN_FLIGHT} in flight`;
  row(
    `publish → handler done ${label}, events/s (vs raw consume+ack)`,
    rate(bus.throughput),
    rate(raw.throughput),
    (bus.throughput / raw.throughput).toFixed(2),
  );
  for (const p of [50, 99]) {
    const [b, r] = [percentile(bus.latency, p), percentile(raw.latency, p)];
    row(`publish → handler done ${label}, p${p} ms (vs raw)`, b.toFixed(1), r.toFixed(1), (b / r).toFixed(2));
  }
} finally {
  await server.stop();
}
