/**
 * The dashboard's pages with 100,000 records (`N` to change it), on NATS and on Cloudflare
 * (`wrangler dev`): the events page, the events page filtered by status, an event's page, a
 * chain's page, the dead letters, and the live-update poll. Median of 7 after a warm-up.
 *
 * - NATS: 100,000 events published through the bus (batches of 100, ten at once) and handled
 *   (one in a thousand dies); the pages are timed in process (`app.request`): server time.
 * - Cloudflare: records written straight into the store objects (bench/dashboard_fill.ts, the
 *   fastest honest way to hold 100,000); the pages are timed over loopback HTTP, which is server
 *   time plus wrangler's local proxy, an upper bound.
 *
 * Run: `bun bench/dashboard_bench.ts` (a few minutes).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Hono } from "hono";
import { createBus, NonRetriableError } from "../mod.ts";
import { natsDriver } from "../adapters/nats/mod.ts";
import { dashboard } from "../adapters/hono/mod.ts";
import { startNatsServer } from "../test/nats/server.ts";
import { freePort } from "../test/lib/ports.ts";
import { row, runtime } from "./lib.ts";
import { reach } from "./nats_common.ts";
import { TOKEN } from "./dashboard_fill.ts";

const N = Number(process.env.N ?? 100_000);
const label = `${N.toLocaleString("en-US")} records`;
const TARGET = 100;

type Fetch = (path: string) => Promise<Response>;

async function median(fetchPage: Fetch, path: string, runs = 7): Promise<number> {
  const first = await fetchPage(path);
  if (first.status !== 200) throw new Error(`${path} answered ${first.status}: ${(await first.text()).slice(0, 300)}`);
  await first.text();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = await fetchPage(path);
    await r.text();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)];
}

async function pages(where: string, fetchPage: Fetch, ids: { event: string; chain: string }): Promise<void> {
  const measured: [string, string][] = [
    ["events page (newest 50, counts)", "/ui"],
    ['events page, status "done"', "/ui?status=done"],
    ["an event's page", `/ui/events/${ids.event}`],
    ["a chain's page", `/ui/events/${ids.chain}/chain`],
    ["dead letters page", "/ui/dead"],
    ["live-update poll (events page)", "/ui/api/stamp"],
  ];
  for (const [what, path] of measured) {
    const ms = await median(fetchPage, path);
    row(`dashboard ${what}, ${where}, ${label}, ms`, ms.toFixed(1), `< ${TARGET}`, (ms / TARGET).toFixed(2));
  }
}

async function signedIn(request: (path: string, init?: RequestInit) => Promise<Response>): Promise<Fetch> {
  const r = await request("/ui/login", {
    method: "POST",
    body: new URLSearchParams({ token: TOKEN }),
    redirect: "manual",
  });
  const cookie = r.headers.get("set-cookie")?.split(";")[0];
  if (!cookie) throw new Error(`Sign-in failed: ${r.status}`);
  return (path) => request(path, { headers: { cookie } });
}

async function onNats(): Promise<void> {
  const server = await startNatsServer();
  try {
    const { servers, connect } = reach(server);
    const worker = createBus({ driver: natsDriver({ servers, connect, prefix: "dash", concurrency: 256 }) });
    let done = 0;
    worker.on("shop.>", { id: "audit" }, (event) => {
      done++;
      if ((event.body as { i: number }).i % 1000 === 999) throw new NonRetriableError("poison");
    });
    worker.on("chain.step", { id: "step" }, async (event, ctx) => {
      const n = (event.body as { n: number }).n;
      if (n < 9) await ctx.publish("chain.step", { n: n + 1 });
    });
    await worker.start();
    const api = createBus({ driver: natsDriver({ servers, connect, prefix: "dash", scheduler: false }) });
    const names = ["shop.order.placed", "shop.order.paid", "shop.cart.viewed", "shop.user.seen"];
    const started = performance.now();
    for (let i = 0; i < N; i += 1000) {
      await Promise.all(Array.from({ length: 10 }, (_, k) =>
        api.publishBatch(Array.from({ length: 100 }, (_, j) => {
          const n = i + k * 100 + j;
          return { name: names[n % 4], body: { i: n, customer: `c-${n % 977}` } };
        }))));
    }
    const chain = await api.publish("chain.step", { n: 0 });
    while (done < N) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1_000));
    console.log(`NATS: ${N} events published and handled in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    const app = new Hono().route("/ui", dashboard(api, { tokens: [TOKEN] }));
    const fetchPage = await signedIn((path, init) => Promise.resolve(app.request(path, init)));
    const event = (await api.list({ limit: 30, bodyLimit: 0 })).items[25].id;
    await pages(`NATS (${runtime}, in process)`, fetchPage, { event, chain });
    await Promise.all([worker.stop(), api.stop()]);
  } finally {
    await server.stop();
  }
}

async function onWrangler(): Promise<void> {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), "edgebus-dash-bench-"));
  const origin = `http://127.0.0.1:${port}`;
  let log = "";
  const child: ChildProcess = spawn("node_modules/.bin/wrangler", [
    "dev",
    "-c",
    "bench/dashboard_wrangler.toml",
    "--port",
    String(port),
    "--inspector-port",
    String(await freePort()),
    "--persist-to",
    state,
    "--log-level",
    "warn",
  ], {
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" },
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  child.stderr?.on("data", (d) => (log += String(d)));
  try {
    for (let i = 0;; i++) {
      if (i > 300 || child.exitCode !== null) throw new Error(`wrangler dev did not start:\n${log.slice(-2000)}`);
      if (await fetch(`${origin}/ui/login`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const start = Date.now() - N - 60_000;
    const started = performance.now();
    const BATCH = 2_000;
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < N) {
        const from = next;
        next += BATCH;
        const r = await fetch(`${origin}/bench/fill?from=${from}&count=${Math.min(BATCH, N - from)}&start=${start}`, {
          method: "POST",
        });
        if (!r.ok) throw new Error(`fill answered ${r.status}: ${await r.text()}`);
      }
    }));
    console.log(`wrangler dev: ${N} records written in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    const fetchPage = await signedIn((path, init) => fetch(`${origin}${path}`, init));
    const last = N - 1 - ((N - 1) % 10);
    await pages("wrangler dev (loopback HTTP)", fetchPage, {
      event: `r${String(N - 25).padStart(7, "0")}`,
      chain: `r${String(last + 3).padStart(7, "0")}`,
    });
  } finally {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch { /* already gone */ }
    await new Promise((r) => setTimeout(r, 500));
    rmSync(state, { recursive: true, force: true });
  }
}

const only = process.argv.slice(2);
if (only.length === 0 || only.includes("nats")) await onNats();
if (only.length === 0 || only.includes("wrangler")) await onWrangler();
process.exit(0);
