/**
 * Listing at scale on the NATS driver: `bus.list()` pages (newest, a status filter, a name
 * filter, the 3rd page) and `bus.get()` with N records in one application (default 200,000;
 * `N=1000000` for a million), and ten concurrent calls. A handler finishes most events; one in
 * a thousand dies (a dead letter), so filters that match often and rarely are both measured.
 *
 * Run: `npx bun bench/nats_list.ts`.
 */
import { createBus, NonRetriableError } from "../mod.ts";
import { natsDriver } from "../adapters/nats/mod.ts";
import { startNatsServer } from "../test/nats/server.ts";
import { row } from "./lib.ts";
import { reach, RUNTIME } from "./nats_common.ts";

const N = Number(globalThis.process?.env?.N ?? 200_000);
const server = await startNatsServer();
const { servers, connect, transport } = reach(server);

async function timed<T>(fn: () => Promise<T>, runs = 5): Promise<{ ms: number; value: T }> {
  let value = await fn(); // warm
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    value = await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], value };
}

try {
  const worker = createBus({ driver: natsDriver({ servers, connect, prefix: "list", concurrency: 256 }) });
  let done = 0;
  worker.on("shop.>", { id: "audit" }, (event) => {
    done++;
    if ((event.body as { i: number }).i % 1000 === 999) throw new NonRetriableError("poison");
  });
  await worker.start();
  const api = createBus({ driver: natsDriver({ servers, connect, prefix: "list", scheduler: false }) });
  const started = performance.now();
  const names = ["shop.order.placed", "shop.order.paid", "shop.cart.viewed", "shop.user.seen"];
  for (let i = 0; i < N; i += 1000) {
    await Promise.all(
      Array.from({ length: 10 }, (_, k) =>
        api.publishBatch(Array.from({ length: 100 }, (_, j) => {
          const n = i + k * 100 + j;
          return { name: names[n % 4], body: { i: n } };
        }))),
    );
  }
  const published = performance.now() - started;
  while (done < N) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 1_000));
  console.log(`nats list (${RUNTIME}, ${transport}, ${N} records; published in ${(published / 1000).toFixed(0)} s)`);

  const page1 = await timed(() => api.list({ limit: 50 }));
  const page3 = await timed(async () => {
    const p1 = await api.list({ limit: 50 });
    const p2 = await api.list({ limit: 50, cursor: p1.cursor });
    const t = performance.now();
    await api.list({ limit: 50, cursor: p2.cursor });
    return performance.now() - t;
  });
  const done50 = await timed(() => api.list({ limit: 50, status: "done" }));
  const name50 = await timed(() => api.list({ limit: 50, name: "shop.order.*" }));
  const dead50 = await timed(() => api.list({ limit: 50, status: "dead" }));
  const getOne = await timed(() => api.get(page1.value.items[25].id), 20);
  const concurrent = await timed(async () => {
    const t = performance.now();
    const each = await Promise.all(Array.from({ length: 10 }, async () => {
      const s = performance.now();
      await api.list({ limit: 50, status: "done" });
      return performance.now() - s;
    }));
    return { wall: performance.now() - t, slowest: Math.max(...each) };
  }, 3);
  const ms = (n: number) => n.toFixed(1);
  const label = `${N.toLocaleString("en-US")} records`;
  row(`list({ limit: 50 }), ${label}, ms`, ms(page1.ms), "", "");
  row(`list 3rd page, ${label}, ms`, ms(page3.value), "", "");
  row(`list({ status: "done" }), ${label}, ms`, ms(done50.ms), "", "");
  row(`list({ name: "shop.order.*" }), ${label}, ms`, ms(name50.ms), "", "");
  row(`list({ status: "dead" }) (1 in 1000 dead), ${label}, ms`, ms(dead50.ms), "", "");
  row(`get(id), ${label}, ms`, ms(getOne.ms), "", "");
  row(
    `10 concurrent list({ status: "done" }), slowest call / one call alone, ms`,
    ms(concurrent.value.slowest),
    ms(done50.ms),
    (concurrent.value.slowest / done50.ms).toFixed(2),
  );
  // Calls that queued behind each other would take ten calls' time; overlapping ones take less.
  row(
    `10 concurrent list({ status: "done" }), all done / ten calls one after another, ms`,
    ms(concurrent.value.wall),
    ms(10 * done50.ms),
    (concurrent.value.wall / (10 * done50.ms)).toFixed(2),
  );
  const deadCount = Math.min(50, Math.floor(N / 1000));
  if (dead50.value.items.length !== deadCount) {
    throw new Error(`expected ${deadCount} dead letters, got ${dead50.value.items.length}`);
  }
  await worker.stop();
  await api.stop();
} finally {
  await server.stop();
}
