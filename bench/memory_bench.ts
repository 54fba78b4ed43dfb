/**
 * The memory driver, in one process:
 * 1. events per second from `publish` to handler completion, one no-op handler, against a bare
 *    loop of `queueMicrotask` and of `setTimeout(0)` calls doing as many handler invocations
 *    (medians of seven runs each);
 * 2. heap per pending event, with 100,000 events scheduled a month ahead.
 *
 * Run: `deno run --v8-flags=--expose-gc bench/memory_bench.ts` or `bun bench/memory_bench.ts`.
 */
import { createBus, memoryDriver } from "../mod.ts";
import { gc, heapUsed, row, runtime } from "./lib.ts";

const N = 100_000;
const BATCH = 1_000;
// Single runs of 100,000 events vary by ±15 % here (garbage collection, a shared machine): each
// figure is the median of ROUNDS runs, the systems taking turns.
const ROUNDS = 7;
const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function throughputBus(): Promise<number> {
  const bus = createBus({ driver: memoryDriver({ concurrency: 256 }) });
  let handled = 0;
  let resolve: () => void = () => {};
  const all = new Promise<void>((r) => (resolve = r));
  bus.on("bench.noop", () => {
    if (++handled === N) resolve();
  });
  const started = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    // Publishes wait for the store, as callers do; a thousand are in flight at a time.
    await Promise.all(Array.from({ length: BATCH }, (_, j) => bus.publish("bench.noop", { i: i + j })));
  }
  await all;
  const seconds = (performance.now() - started) / 1000;
  await bus.stop();
  return N / seconds;
}

async function throughputBare(schedule: (fn: () => void) => void): Promise<number> {
  let handled = 0;
  let resolve: () => void = () => {};
  const all = new Promise<void>((r) => (resolve = r));
  // Shaped like an async handler: it returns a promise.
  const handler = (_body: unknown): Promise<void> => {
    if (++handled === N) resolve();
    return Promise.resolve();
  };
  const started = performance.now();
  for (let i = 0; i < N; i++) schedule(() => void handler({ i }));
  await all;
  return N / ((performance.now() - started) / 1000);
}

async function pendingHeap(): Promise<number> {
  gc();
  const before = heapUsed();
  const bus = createBus();
  bus.on("renewal.due", () => {});
  for (let i = 0; i < N; i += BATCH) {
    await bus.publishBatch(
      Array.from({ length: BATCH }, (_, j) => ({ name: "renewal.due", after: "1 month", body: { account: i + j } })),
    );
  }
  gc();
  const after = heapUsed();
  await bus.stop();
  return (after - before) / N;
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
console.log(`memory driver, ${runtime}, ${N.toLocaleString("en-US")} events a run, medians of ${ROUNDS} runs`);
console.log("| figure | edgebus | raw peer | ratio |\n|---|---|---|---|");
await throughputBus(); // warm-up
const runs = { ours: [] as number[], micro: [] as number[], timeout: [] as number[] };
for (let i = 0; i < ROUNDS; i++) {
  runs.ours.push(await throughputBus());
  runs.micro.push(await throughputBare(queueMicrotask));
  runs.timeout.push(await throughputBare((fn) => setTimeout(fn, 0)));
}
const [ours, micro, timeout] = [median(runs.ours), median(runs.micro), median(runs.timeout)];
row("publish → handler done, events/s (vs queueMicrotask loop)", fmt(ours), fmt(micro), (ours / micro).toFixed(3));
row("publish → handler done, events/s (vs setTimeout(0) loop)", fmt(ours), fmt(timeout), (ours / timeout).toFixed(3));
row("heap per pending event (100k delayed a month ahead), bytes", fmt(await pendingHeap()));
