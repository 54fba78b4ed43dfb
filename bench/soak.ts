/**
 * Soak: mixed load and faults for a while, reporting memory and open handles at the start and
 * the end. Immediate, delayed and failing events go through a real nats-server, which is killed
 * and restarted every 20 s. Run: `npm run bench -- --soak 10m` (or `bun bench/soak.ts 10m`).
 */
import { readdirSync } from "node:fs";
import process from "node:process";
import { createBus, EdgebusError } from "../mod.ts";
import { natsDriver } from "../adapters/nats/mod.ts";
import { startNatsServer } from "../test/nats/server.ts";
import { gc, heapUsed, row, runtime } from "./lib.ts";

const arg = process.argv[2] ?? "1m";
const unit = { s: 1_000, m: 60_000, h: 3_600_000 }[arg.slice(-1)] ?? 60_000;
const duration = parseFloat(arg) * unit;

const openHandles = (): number => readdirSync("/proc/self/fd").length;
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const snapshot = () => {
  gc();
  return { heap: heapUsed(), rss: process.memoryUsage().rss, fds: openHandles() };
};

const server = await startNatsServer();
const bus = createBus({
  driver: natsDriver({ servers: server.wsUrl, prefix: "soak", timeout: 2_000, tick: 100 }),
  retry: { minDelay: 200, maxDelay: 2_000, maxAttempts: 3 },
});
let handled = 0;
let failed = 0;
bus.on("soak.ok", () => void handled++);
bus.on("soak.later", () => void handled++);
bus.on("soak.flaky", (event) => {
  if (event.attempt < 2) {
    failed++;
    throw new Error("flaky");
  }
  handled++;
});
await bus.start();

let published = 0;
let refused = 0;
let stopping = false;
const names = ["soak.ok", "soak.ok", "soak.later", "soak.flaky"];
async function load(): Promise<void> {
  for (let i = 0; !stopping; i++) {
    const name = names[i % names.length];
    try {
      await bus.publish(name, name === "soak.later" ? { after: 2_000 } : {}, { i });
      published++;
    } catch (error) {
      if (!(error instanceof EdgebusError)) throw error;
      refused++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

await new Promise((resolve) => setTimeout(resolve, 3_000)); // warm up before the first figures
const start = snapshot();
const started = Date.now();
const loaders = Array.from({ length: 4 }, load);
let kills = 0;
while (Date.now() - started < duration) {
  await new Promise((resolve) => setTimeout(resolve, Math.min(20_000, duration - (Date.now() - started))));
  if (Date.now() - started >= duration) break;
  server.signal("SIGKILL");
  kills++;
  await new Promise((resolve) => setTimeout(resolve, 500));
  await server.restart();
}
stopping = true;
await Promise.all(loaders);
await new Promise((resolve) => setTimeout(resolve, 5_000)); // let retries and delays drain
const end = snapshot();
await bus.stop();
await server.stop();

console.log(`soak, ${runtime}, ${(duration / 1000).toFixed(0)} s, ${kills} server kills`);
console.log("| figure | start | end | |\n|---|---|---|---|");
row("soak: heap, MiB", mib(start.heap), mib(end.heap));
row("soak: RSS, MiB", mib(start.rss), mib(end.rss));
row("soak: open file descriptors", String(start.fds), String(end.fds));
row(
  "soak: published / refused (typed) / handled / failed attempts",
  `${published} / ${refused}`,
  `${handled} / ${failed}`,
);
