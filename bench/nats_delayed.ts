/**
 * Delayed events on the NATS driver (nats-server 2.9, no `Nats-Schedule`):
 * 1. lateness of 10,000 delayed events (p50/p99/max; none may be early);
 * 2. a process's heap with a million pending delayed events against the same process over an
 *    empty schedule, and immediate-event latency in both (pending events must not slow them).
 *
 * Run: `npx bun bench/nats_delayed.ts` (PENDING=200000 for a shorter run).
 */
import { jetstream } from "@nats-io/jetstream";
import { type Bus, createBus } from "../mod.ts";
import { createEnvelope, idGenerator } from "../driver/mod.ts";
import { natsDriver } from "../adapters/nats/mod.ts";
import { deriveNames } from "../adapters/nats/names.ts";
import { publishEnvelope } from "../adapters/nats/publish.ts";
import { startNatsServer } from "../test/nats/server.ts";
import { gc, heapUsed, row } from "./lib.ts";
import { percentile, pipelined, rate, rawConnection, reach, RUNTIME } from "./nats_common.ts";

const env = globalThis.process?.env ?? {};
const DELAYED = Number(env.DELAYED ?? 10_000);
const PENDING = Number(env.PENDING ?? 1_000_000);
const server = await startNatsServer();
const { servers, connect, transport } = reach(server);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (n: number) => `${Math.round(n)} ms`;

async function lateness(): Promise<void> {
  const bus = createBus({ driver: natsDriver({ servers, connect, prefix: "late" }) });
  const late: number[] = [];
  bus.on("bench.delayed", (event) => void late.push(Date.now() - (event.time + event.delay)));
  await bus.start();
  const items = Array.from(
    { length: DELAYED },
    (_, i) => ({ name: "bench.delayed", body: { i }, after: 5_000 + Math.floor(Math.random() * 10_000) }),
  );
  await pipelined(DELAYED / 100, 4, (i) => bus.publishBatch(items.slice(i * 100, i * 100 + 100)));
  const end = Date.now() + 60_000;
  while (late.length < DELAYED && Date.now() < end) await sleep(100);
  await bus.stop();
  const sorted = late.sort((a, b) => a - b);
  const early = sorted.filter((x) => x < 0).length;
  console.log(
    `  lateness of ${DELAYED} delayed events (due 5-15 s out): delivered ${sorted.length}, early ${early}, ` +
      `p50 ${ms(percentile(sorted, 50))} p99 ${ms(percentile(sorted, 99))} max ${ms(sorted[sorted.length - 1])}`,
  );
  row(
    `lateness of ${DELAYED} delayed events due 5-15 s out, p50/p99/max ms (early: ${early}, missing: ${
      DELAYED - sorted.length
    })`,
    `${percentile(sorted, 50)}/${percentile(sorted, 99)}/${sorted[sorted.length - 1]}`,
  );
}

async function fill(prefix: string, count: number): Promise<number> {
  // Publishes in the driver's own format, straight to the schedule stream, to fill it quickly.
  const setup = natsDriver({ servers, connect, prefix });
  await setup.store.get("warm-up"); // creates the streams
  const nc = await rawConnection(connect, servers, "fill");
  const js = jetstream(nc);
  const names = deriveNames(prefix, "default", {});
  const newId = idGenerator();
  const now = Date.now();
  const month = 30 * 86_400_000;
  const r = await pipelined(count, 200, (i) => {
    const envelope = createEnvelope(
      { name: "bench.later", body: { i }, after: 3_600_000 + Math.floor(Math.random() * month) },
      now,
      newId,
    );
    return publishEnvelope(js, names, envelope, { now, lead: 1_000, timeout: 10_000 });
  });
  await nc.close();
  await setup.stop();
  return r;
}

async function immediateLatency(bus: Bus): Promise<number[]> {
  const sent = new Map<number, number>();
  const got: number[] = [];
  bus.on("bench.now", (event) => void got.push(performance.now() - sent.get((event.body as { i: number }).i)!));
  for (let i = 0; i < 300; i++) {
    sent.set(i, performance.now());
    await bus.publish("bench.now", { i });
    await sleep(5);
  }
  while (got.length < 300) await sleep(20);
  return got.sort((a, b) => a - b);
}

async function soonLateness(bus: Bus): Promise<number[]> {
  const late: number[] = [];
  bus.on("bench.soon", (event) => void late.push(Date.now() - (event.time + event.delay)));
  await bus.publishBatch(
    Array.from({ length: 200 }, (_, i) => ({ name: "bench.soon", body: { i }, after: 4_000 + i * 10 })),
  );
  const end = Date.now() + 20_000;
  while (late.length < 200 && Date.now() < end) await sleep(50);
  return late.sort((a, b) => a - b);
}

async function measure(prefix: string): Promise<{ heap: number; latency: number[]; late: number[] }> {
  const bus = createBus({ driver: natsDriver({ servers, connect, prefix }) });
  await bus.start();
  const soon = soonLateness(bus); // 200 events due 4-6 s out, among the pending ones
  await sleep(3_000); // several scheduler rounds over the pending events
  const latency = await immediateLatency(bus);
  const late = await soon;
  gc();
  await sleep(100);
  gc();
  const heap = heapUsed();
  await bus.stop();
  return { heap, latency, late };
}

try {
  console.log(`nats delayed events (${RUNTIME}, ${transport}, nats-server 2.9 scheduler)`);
  await lateness();
  if (PENDING === 0) throw new Error("PENDING=0: lateness only");
  const fillRate = await fill("pending", PENDING);
  console.log(
    `  filled ${PENDING.toLocaleString("en-US")} pending delayed events (due 1 h to 30 days out) at ${rate(fillRate)}`,
  );
  const idle = await measure("idle");
  const loaded = await measure("pending");
  const mb = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  console.log(
    `  heap, bus over an empty schedule:       ${mb(idle.heap)}; immediate events p50 ${
      idle.latency[150].toFixed(1)
    } ms p99 ${percentile(idle.latency, 99).toFixed(1)} ms`,
  );
  console.log(
    `  heap, bus over ${PENDING.toLocaleString("en-US")} pending: ${mb(loaded.heap)}; immediate events p50 ${
      loaded.latency[150].toFixed(1)
    } ms p99 ${percentile(loaded.latency, 99).toFixed(1)} ms`,
  );
  console.log(`  heap ratio ${(loaded.heap / idle.heap).toFixed(2)}`);
  const pending = PENDING.toLocaleString("en-US");
  row(
    `heap of a running bus with ${pending} pending delayed events, MiB (vs empty schedule)`,
    mb(loaded.heap),
    mb(idle.heap),
    (loaded.heap / idle.heap).toFixed(2),
  );
  const [p50, e50] = [percentile(loaded.latency, 50), percentile(idle.latency, 50)];
  row(
    `immediate event latency p50 with ${pending} pending, ms (vs empty schedule)`,
    p50.toFixed(1),
    e50.toFixed(1),
    (p50 / e50).toFixed(2),
  );
  row(
    `lateness of 200 delayed events among ${pending} pending, p50/max ms (vs empty schedule)`,
    `${percentile(loaded.late, 50)}/${loaded.late[loaded.late.length - 1]}`,
    `${percentile(idle.late, 50)}/${idle.late[idle.late.length - 1]}`,
  );
  for (
    const [label, m] of [["empty schedule", idle], [`${PENDING.toLocaleString("en-US")} pending`, loaded]] as const
  ) {
    console.log(
      `  lateness of 200 events due 4-6 s out, ${label}: delivered ${m.late.length}, early ${
        m.late.filter((x) => x < 0).length
      }, ` +
        `p50 ${ms(percentile(m.late, 50))} max ${ms(m.late[m.late.length - 1])}`,
    );
  }
} catch (error) {
  if (!String(error).includes("lateness only")) throw error;
} finally {
  await server.stop();
}
