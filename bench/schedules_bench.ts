/**
 * Schedules at scale: 10,000 schedules ticking every minute (at second 0), for two minutes,
 * 1. on NATS (one process declares, fires under the scheduler's lease and handles the ticks);
 * 2. on `wrangler dev` (the scheduler objects' alarms fire; ticks are read back from the records).
 * Figures: how late ticks are published (the event's publish time against its tick time: p50,
 * p99, max), how many ticks of the two minutes were published, and memory (NATS: the process's
 * heap after each minute, after a full GC).
 *
 * Run: `bun bench/schedules_bench.ts` (about 5 minutes); `--nats` or `--cloudflare` for one;
 * `SCHEDULES=2000` for fewer schedules.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createBus } from "../mod.ts";
import { natsDriver } from "../adapters/nats/mod.ts";
import { startNatsServer } from "../test/nats/server.ts";
import { gc, heapUsed, percentiles, row, runtime } from "./lib.ts";
import { reach } from "./nats_common.ts";

const COUNT = Number(process.env.SCHEDULES ?? 10_000);
const MINUTES = 2;
const CRON = "0 * * * * *";
const args = process.argv.slice(2);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MB`;
const tickOf = (id: string): number =>
  Date.parse(
    id.slice(id.lastIndexOf(":") + 1).replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"),
  );
/** Waits until `ms` after the start of the next minute. */
const untilNextMinute = (ms = 0) => sleep(60_000 - (Date.now() % 60_000) + ms);

async function declareAll(declare: (i: number) => Promise<unknown>, inFlight = 64): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < COUNT) await declare(next++);
  }));
  return (performance.now() - started) / 1000;
}

function figures(where: string, published: number[], ran: number[], expected: number): void {
  const [p50, p99, max] = percentiles(published, [50, 99, 100]);
  const [r50, r99, rmax] = percentiles(ran, [50, 99, 100]);
  const count = (n: number) => n.toLocaleString("en-US");
  row(
    `${where}: ${count(COUNT)} schedules every minute, ticks published in ${MINUTES} min`,
    `${count(published.length)} of ${count(expected)}`,
  );
  row(
    `${where}: tick published, ms after its time (negative: ahead, due at its time), p50 / p99 / max`,
    `${p50} / ${p99} / ${max}`,
    "",
    p99 <= 1_000 ? "p99 ≤ 1 s" : "p99 > 1 s",
  );
  row(
    `${where}: tick's handler ran, ms after its time, p50 / p99 / max`,
    `${r50} / ${r99} / ${rmax}`,
    "",
    r99 <= 1_000 ? "p99 ≤ 1 s" : "p99 > 1 s",
  );
}

async function nats(): Promise<void> {
  const server = await startNatsServer();
  try {
    const bus = createBus({ driver: natsDriver({ ...reach(server), prefix: "cronbench", concurrency: 256 }) });
    const published: number[] = [];
    const ran: number[] = [];
    // Only the ticks of the measured minutes count: a declaration that crosses a minute's start
    // has its first schedules tick at that minute already. A second run of a schedule's tick is
    // counted apart, as a duplicate; runs are kept per schedule and minute in a byte each, so that
    // the bookkeeping adds little to the heap measured.
    let started = Infinity;
    const runs = new Uint8Array(COUNT * (MINUTES + 1));
    let duplicates = 0;
    bus.on("bench.tick", { id: "tick" }, (event) => {
      const tick = tickOf(event.id);
      if (tick <= started) return;
      const minute = Math.round((tick - Math.ceil(started / 60_000) * 60_000) / 60_000);
      if (minute >= MINUTES) return;
      const slot = minute * COUNT + (event.body as { i: number }).i;
      if (runs[slot]++ > 0) return void duplicates++;
      published.push(event.time - tick);
      ran.push(Date.now() - tick);
    });
    await bus.start();
    const seconds = await declareAll((i) => bus.schedule(`s-${i}`, CRON, "bench.tick", { i }));
    row(`NATS: declare ${COUNT.toLocaleString("en-US")} schedules (64 at once)`, `${seconds.toFixed(1)} s`);
    const listed = performance.now();
    const page = await bus.schedules.list({ limit: 50 });
    row(
      `NATS: schedules.list() first page of 50, of ${COUNT.toLocaleString("en-US")}`,
      `${Math.round(performance.now() - listed)} ms (${page.items.length})`,
    );
    started = Date.now();
    const heaps: number[] = [];
    for (let m = 0; m < MINUTES; m++) {
      await untilNextMinute(20_000);
      gc();
      heaps.push(heapUsed());
    }
    await sleep(5_000);
    await bus.stop();
    figures("NATS", published, ran, COUNT * MINUTES);
    row("NATS: ticks run more than once", String(duplicates));
    row("NATS: heap after the 1st and 2nd minute's ticks (full GC)", heaps.map(mb).join(" → "));
  } finally {
    await server.stop();
  }
}

const PORT = 18_795;
const BASE = `http://127.0.0.1:${PORT}`;

function startWrangler(state: string): ChildProcess {
  const child = spawn("node_modules/.bin/wrangler", [
    "dev",
    "-c",
    "bench/schedules_wrangler.toml",
    "--ip",
    "127.0.0.1",
    "--port",
    String(PORT),
    "--persist-to",
    state,
    "--log-level",
    "warn",
  ], {
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" },
    stdio: ["ignore", "ignore", "inherit"],
    detached: true,
  });
  return child;
}

/** The resident memory of the workerd processes in wrangler's process group, bytes. */
function workerdRss(group: number): number {
  const ps = spawnSync("ps", ["-eo", "pgid=,rss=,comm="], { encoding: "utf8" }).stdout;
  return ps.split("\n").map((line) => line.trim().split(/\s+/))
    .filter(([pgid, , comm]) => Number(pgid) === group && comm?.startsWith("workerd"))
    .reduce((sum, [, kb]) => sum + Number(kb) * 1024, 0);
}

async function cloudflare(): Promise<void> {
  const state = mkdtempSync(join(tmpdir(), "edgebus-cron-bench-"));
  const wrangler = startWrangler(state);
  try {
    for (let i = 0; i < 600; i++) {
      if (await fetch(`${BASE}/`).then((r) => r.ok, () => false)) break;
      await sleep(100);
    }
    const seconds = await declareAll(async (i) => {
      const response = await fetch(`${BASE}/schedule/${i}`, { method: "POST" });
      if (!response.ok) throw new Error(`declare ${i}: ${response.status} ${await response.text()}`);
    }, 16);
    row(
      `wrangler dev: declare ${COUNT.toLocaleString("en-US")} schedules (16 at once, over HTTP)`,
      `${seconds.toFixed(1)} s`,
    );
    const listed = performance.now();
    const page = await (await fetch(`${BASE}/list`)).json() as { items: unknown[] };
    row(
      `wrangler dev: schedules.list() first page of 50, of ${COUNT.toLocaleString("en-US")}, over HTTP`,
      `${Math.round(performance.now() - listed)} ms (${page.items.length})`,
    );
    const started = Date.now();
    const rss: number[] = [];
    for (let m = 0; m < MINUTES; m++) {
      await untilNextMinute(m === MINUTES - 1 ? 30_000 : 20_000);
      rss.push(workerdRss(wrangler.pid!));
    }
    row(
      "wrangler dev: workerd's resident memory 20 s after the 1st and 30 s after the 2nd minute",
      rss.map(mb).join(" → "),
    );
    const published: number[] = [];
    const ran: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await (await fetch(`${BASE}/ticks${cursor ? `?cursor=${cursor}` : ""}`)).json() as {
        items: { id: string; time: number; finishedAt?: number }[];
        cursor?: string;
      };
      for (const { id, time, finishedAt } of page.items) {
        if (tickOf(id) <= started) continue;
        published.push(time - tickOf(id));
        if (finishedAt !== undefined) ran.push(finishedAt - tickOf(id));
      }
      cursor = page.cursor;
    } while (cursor);
    figures("wrangler dev", published, ran, COUNT * MINUTES);
  } finally {
    try {
      process.kill(-wrangler.pid!, "SIGTERM");
    } catch {
      // gone already
    }
    await sleep(500);
    rmSync(state, { recursive: true, force: true });
  }
}

console.log(`schedules bench (${runtime}), ${COUNT} schedules`);
console.log("| figure | edgebus | peer | ratio |\n|---|---|---|---|");
if (!args.includes("--cloudflare")) await nats();
if (!args.includes("--nats")) await cloudflare();
process.exit(0);
