/**
 * The Postgres outbox against a real Postgres (started on a free port, fsync off unless
 * `--fsync`), with postgres.js:
 * 1. transactions per second that insert a row and publish through the outbox, against ones that
 *    insert the row alone (8 at a time);
 * 2. relay throughput: committed rows to handler done on the memory bus, against `bus.publish`
 *    straight to the same bus;
 * 3. latency from commit to handler start through the relay woken by NOTIFY (polling once a
 *    minute, so only the NOTIFY can wake it in time).
 *
 * Run: `bun bench/outbox_bench.ts` (or Deno: `deno run -A bench/outbox_bench.ts`).
 */
import postgres from "postgres";
import { createBus, memoryDriver } from "../mod.ts";
import { postgresOutbox } from "../adapters/postgres/mod.ts";
import { startPostgres } from "../test/postgres/server.ts";
import { percentiles, row } from "./lib.ts";

const g = globalThis as unknown as { process?: { argv: string[] }; Deno?: { args: string[] } };
const args = g.Deno?.args ?? g.process?.argv ?? [];
const fsync = args.includes("--fsync");
const server = await startPostgres(fsync ? { fsync: "on" } : {});
const sql = postgres(server.url, { onnotice: () => {}, max: 10 });
const ROUNDS = 8;
const TX = 500;
const CONCURRENCY = 8;
const outbox = postgresOutbox({ sql });
const quiet = postgresOutbox({ sql, table: "quiet_outbox", notify: false });
await outbox.migrate();
await quiet.migrate();
await sql.unsafe("CREATE TABLE accounts (id bigserial PRIMARY KEY, plan text NOT NULL)");

/** Seconds for TX transactions, CONCURRENCY at a time, each inserting a row and maybe publishing. */
async function transactions(using?: typeof outbox): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next++ < TX) {
      await sql.begin(async (tx) => {
        const [{ id }] = await tx`INSERT INTO accounts (plan) VALUES ('pro') RETURNING id`;
        if (using) await using.publish(tx, "account.upgraded", { id: String(id), plan: "pro" });
      });
    }
  }));
  return (performance.now() - started) / 1000;
}

async function relayed(count: number): Promise<number> {
  const bus = createBus({ driver: memoryDriver({ concurrency: 256 }) });
  let handled = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((r) => (done = r));
  bus.on("bench.row", () => {
    if (++handled === count) done();
  });
  for (let i = 0; i < count; i += 1_000) {
    await sql.begin((tx) =>
      outbox.publishBatch(tx, Array.from({ length: 1_000 }, (_, j) => ({ name: "bench.row", body: { i: i + j } })))
    );
  }
  const started = performance.now();
  const relays = [outbox.relay(bus, { batchSize: 500 }), outbox.relay(bus, { batchSize: 500 })];
  await all;
  const rate = count / ((performance.now() - started) / 1000);
  await Promise.all(relays.map((r) => r.stop()));
  await bus.stop();
  return rate;
}

async function direct(count: number): Promise<number> {
  const bus = createBus({ driver: memoryDriver({ concurrency: 256 }) });
  let handled = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((r) => (done = r));
  bus.on("bench.row", () => {
    if (++handled === count) done();
  });
  const started = performance.now();
  for (let i = 0; i < count; i += 1_000) {
    await Promise.all(Array.from({ length: 1_000 }, (_, j) => bus.publish("bench.row", { i: i + j })));
  }
  await all;
  const rate = count / ((performance.now() - started) / 1000);
  await bus.stop();
  return rate;
}

async function latency(samples: number): Promise<number[]> {
  const bus = createBus();
  const started = new Map<string, number>();
  const took: number[] = [];
  let seen: () => void = () => {};
  bus.on("bench.latency", (event) => {
    took.push(performance.now() - started.get(event.id)!);
    seen();
  });
  const relay = outbox.relay(bus, { pollInterval: 60_000 });
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < samples; i++) {
    const arrived = new Promise<void>((r) => (seen = r));
    const id = `lat-${i}`;
    await sql.begin(async (tx) => {
      await tx`INSERT INTO accounts (plan) VALUES ('latency')`;
      await outbox.publish(tx, "bench.latency", { id }, { i });
      started.set(id, performance.now()); // just before COMMIT
    });
    await arrived;
  }
  await relay.stop();
  await bus.stop();
  return took;
}

const label = fsync ? "fsync on" : "fsync off";
// The three kinds take turns, round after round, so that load from elsewhere on the machine
// falls on all of them alike.
await transactions(outbox); // warm up
const seconds = { alone: 0, notify: 0, quiet: 0 };
for (let round = 0; round < ROUNDS; round++) {
  seconds.alone += await transactions();
  seconds.notify += await transactions(outbox);
  seconds.quiet += await transactions(quiet);
}
const rate = (s: number) => (ROUNDS * TX) / s;
for (const [kind, label2] of [["notify", ""], ["quiet", " (notify: false)"]] as const) {
  row(
    `${label}: tx/s, INSERT + outbox.publish${label2} vs INSERT alone, ${CONCURRENCY} writers`,
    Math.round(rate(seconds[kind])).toLocaleString("en-US"),
    Math.round(rate(seconds.alone)).toLocaleString("en-US"),
    (seconds.alone / seconds[kind]).toFixed(2),
  );
}
await sql.unsafe(`DELETE FROM ${outbox.table}`);
// Relay and direct publish take turns too: three rounds of 10,000 events each.
const N = 10_000;
let relaySeconds = 0;
let directSeconds = 0;
for (let round = 0; round < 3; round++) {
  relaySeconds += N / await relayed(N);
  directSeconds += N / await direct(N);
}
row(
  `${label}: rows → handler done, events/s, 2 relays vs bus.publish (memory)`,
  Math.round((3 * N) / relaySeconds).toLocaleString("en-US"),
  Math.round((3 * N) / directSeconds).toLocaleString("en-US"),
  (directSeconds / relaySeconds).toFixed(2),
);
const [p50, p99, max] = percentiles(await latency(300), [50, 99, 100]);
row(
  `${label}: commit → handler start through the relay, p50 / p99 / max ms`,
  `${p50.toFixed(1)} / ${p99.toFixed(0)} / ${max.toFixed(0)}`,
);
await sql.end({ timeout: 1 });
await server.stop();
