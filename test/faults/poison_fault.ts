/**
 * Fault 4: poison events. A handler that always throws gets exactly the policy's number of
 * attempts, with the policy's spacing, and one dead letter each; other events' latency is not
 * affected. Runs against the memory driver and against a real nats-server.
 */
import { createBus, type Driver, memoryDriver } from "../../mod.ts";
import { natsDriver } from "../../adapters/nats/mod.ts";
import { startNatsServer } from "../nats/server.ts";
import { percentiles } from "../../bench/lib.ts";
import { Ledger, SHORT, sleep, waitFor } from "./ledger.ts";

const POISON = SHORT ? 20 : 200;
const NORMAL = SHORT ? 300 : 3_000;
const retry = { maxAttempts: 4, minDelay: 200, maxDelay: 2_000, multiplier: 2, jitter: 0 };
const spacing = [200, 400, 800];
const SLACK = 600; // ms an attempt may come late on a loaded 2-core machine

async function latencies(driver: Driver, poison: boolean, ledger: Ledger): Promise<number[]> {
  const bus = createBus({ driver, retry });
  const attempts = new Map<number, number[]>();
  const latency: number[] = [];
  bus.on("poison.item", (event) => {
    const { seq } = event.body as { seq: number };
    attempts.set(seq, [...(attempts.get(seq) ?? []), Date.now()]);
    throw new Error(`poison ${seq}`);
  });
  bus.on("normal.item", (event) => {
    const { seq } = event.body as { seq: number };
    latency.push(Date.now() - event.time);
    ledger.effect(poison ? "normal" : "baseline", seq);
  });
  await bus.start();
  if (poison) {
    for (let seq = 0; seq < POISON; seq++) await bus.publish("poison.item", { id: `poison-${seq}` }, { seq });
  }
  for (let seq = 0; seq < NORMAL; seq++) {
    const id = await bus.publish("normal.item", { seq });
    ledger.ack(poison ? "normal" : "baseline", seq, id);
    if (seq % 20 === 0) await sleep(5); // a steady stream, not one burst
  }
  await waitFor(() => ledger.complete(), 30_000);
  if (poison) {
    const lastDue = spacing.reduce((a, b) => a + b, 0) + SLACK * 4;
    await waitFor(
      async () => (await bus.list({ status: "dead", limit: 1000 })).items.length >= POISON,
      lastDue + 10_000,
    );
    for (let seq = 0; seq < POISON; seq++) {
      const times = attempts.get(seq) ?? [];
      if (times.length !== retry.maxAttempts) ledger.unexpected(`poison ${seq}: ${times.length} attempts`);
      for (let i = 1; i < times.length; i++) {
        const gap = times[i] - times[i - 1];
        if (gap < spacing[i - 1] - 5 || gap > spacing[i - 1] + SLACK) {
          ledger.unexpected(
            `poison ${seq}: attempt ${i + 1} came ${gap} ms after the previous (policy: ${spacing[i - 1]})`,
          );
        }
      }
    }
    const dead = (await bus.list({ status: "dead", limit: 1000 })).items;
    if (dead.length !== POISON) ledger.unexpected(`${dead.length} dead letters for ${POISON} poison events`);
  }
  await bus.stop();
  return latency;
}

async function run(name: string, create: () => Driver | Promise<Driver>): Promise<void> {
  const ledger = new Ledger();
  const [b50, b99] = percentiles(await latencies(await create(), false, ledger), [50, 99]);
  const [p50, p99] = percentiles(await latencies(await create(), true, ledger), [50, 99]);
  // Other events' latency with poison in flight stays near the baseline.
  if (p99 > Math.max(3 * b99, b99 + 250)) ledger.unexpected(`p99 ${p99} ms with poison against ${b99} ms without`);
  ledger.print(`poison events (${name})`, { baseline_p50: b50, baseline_p99: b99, poison_p50: p50, poison_p99: p99 });
}

await run("memory", () => memoryDriver());
const server = await startNatsServer();
let n = 0;
try {
  await run("nats", () => natsDriver({ servers: server.wsUrl, prefix: `poison${n++}`, tick: 50 }));
} finally {
  await server.stop();
}
