/**
 * The Cloudflare adapter on `wrangler dev` (local workerd, offline), against the raw platform in
 * the same run:
 * 1. how late delayed events run, 200 per path, delays of 1.5 to 4.5 s (not whole seconds):
 *    edgebus through Queues' `delaySeconds` against a raw `send` with `delaySeconds`; edgebus
 *    through the scheduler object against a raw Durable Object alarm. None may be early.
 * 2. events per second from an HTTP publish to handler completion, through the Hono router (bearer
 *    token, zod schema) and through a bare `fetch` calling `bus.publish`, against a bare `send` per
 *    POST consumed by a bare `queue()`;
 * 3. workerd's CPU time per event on those paths (from /proc, Linux), against the raw send and
 *    against a Worker answering 202 with nothing.
 *
 * Run: `deno run -A bench/cloudflare_bench.ts` or `bun bench/cloudflare_bench.ts` (about 1 min).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { percentiles, row, runtime } from "./lib.ts";

const PORT = 18_790;
const BASE = `http://127.0.0.1:${PORT}`;
const EVENTS = 200;
const HTTP_EVENTS = 1_000;
const CONCURRENCY = 16;
/** The Worker's router token (bench/cloudflare_worker.ts). */
const TOKEN = "tok_bench_0123456789abcdef";

interface Results {
  readonly late: Record<string, number[]>;
  readonly handled: Record<string, number>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(check: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`Timed out waiting for ${what}`);
}

let log = "";

function startWrangler(state: string): ChildProcess {
  const args = ["dev", "-c", "bench/cloudflare_wrangler.toml", "--ip", "127.0.0.1", "--port", String(PORT)];
  const child = spawn("node_modules/.bin/wrangler", [...args, "--persist-to", state, "--log-level", "warn"], {
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" },
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  // Kept to explain a failed start; workerd's complaints when it is stopped are noise.
  child.stderr?.on("data", (chunk) => (log += String(chunk)));
  return child;
}

const results = async (): Promise<Results> => (await fetch(`${BASE}/bench/results`)).json() as Promise<Results>;

async function lateness(path: string): Promise<number[]> {
  const delays = Array.from({ length: EVENTS }, () => 1_500 + Math.floor(Math.random() * 3_000) + 0.5);
  const response = await fetch(`${BASE}/bench/delayed`, {
    method: "POST",
    body: JSON.stringify({ path, delays: delays.map(Math.floor) }),
  });
  if (response.status !== 202) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return await waitFor(
    async () => {
      const late = (await results()).late[path];
      return late.length >= EVENTS ? late : undefined;
    },
    30_000,
    `${EVENTS} delayed events through ${path}`,
  );
}

/**
 * CPU time so far of the workerd processes of wrangler's process group, ms, from /proc (Linux,
 * where the bench runs; 100 clock ticks a second). workerd runs the Worker, its Durable Objects
 * and the local Queues, so this is what a request costs the runtime, not the client or wrangler's proxy.
 */
function workerdCpuMs(group: number): number {
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // ended meanwhile
    }
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" "); // from field 3 (state) on
    if (stat.slice(stat.indexOf("(") + 1, close) !== "workerd" || Number(fields[2]) !== group) continue;
    ticks += Number(fields[11]) + Number(fields[12]); // utime + stime
  }
  return ticks * 10;
}

interface Throughput {
  /** Requests answered 202, per second. */
  readonly accepted: number;
  /** Events handled, per second (the accepted rate when `counter` is not given). */
  readonly done: number;
  /** workerd CPU per request, from the first request until the last event was handled, ms. */
  readonly cpu: number;
}

async function throughput(
  url: (i: number) => string,
  counter?: string,
  headers: Record<string, string> = {},
): Promise<Throughput> {
  const before = counter === undefined ? 0 : (await results()).handled[counter];
  const cpuBefore = workerdCpuMs(wrangler.pid!);
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < HTTP_EVENTS) {
      const i = next++;
      const response = await fetch(url(i), {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ i }),
      });
      if (response.status !== 202) throw new Error(`POST ${url(i)}: ${response.status}`);
      await response.body?.cancel();
    }
  }));
  const accepted = HTTP_EVENTS / ((performance.now() - started) / 1000);
  if (counter !== undefined) {
    await waitFor(
      async () => (await results()).handled[counter] - before >= HTTP_EVENTS ? true : undefined,
      60_000,
      counter,
    );
  }
  const done = HTTP_EVENTS / ((performance.now() - started) / 1000);
  return { accepted, done, cpu: (workerdCpuMs(wrangler.pid!) - cpuBefore) / HTTP_EVENTS };
}

function latenessRows(label: string, ours: number[], peer: number[], peerName: string): void {
  const [p50, p99, max] = percentiles(ours);
  const [r50, r99, rmax] = percentiles(peer);
  const early = ours.filter((ms) => ms < 0).length;
  row(
    `${label}: late p50 / p99 / max, ms (${peerName} as peer)`,
    `${p50} / ${p99} / ${max}`,
    `${r50} / ${r99} / ${rmax}`,
    `${(p50 / Math.max(1, r50)).toFixed(2)}x at p50`,
  );
  row(`${label}: events early (of ${ours.length})`, String(early), String(peer.filter((ms) => ms < 0).length));
}

const state = mkdtempSync(join(tmpdir(), "edgebus-bench-"));
const wrangler = startWrangler(state);
try {
  await waitFor(async () => (await fetch(`${BASE}/health`)).ok || undefined, 60_000, "wrangler dev").catch((error) => {
    console.error(log);
    throw error;
  });
  console.log(`Cloudflare adapter on wrangler dev, driven from ${runtime}`);
  console.log("| figure | edgebus | raw platform | ratio |\n|---|---|---|---|");
  const queue = await lateness("queue");
  const rawQueue = await lateness("rawQueue");
  latenessRows("delay via Queues delaySeconds", queue, rawQueue, "raw send + delaySeconds");
  const sched = await lateness("sched");
  const rawAlarm = await lateness("rawAlarm");
  latenessRows("delay via scheduler object", sched, rawAlarm, "raw Durable Object alarm");
  const auth = { authorization: `Bearer ${TOKEN}` };
  const ours = await throughput((i) => `${BASE}/publish/bench.tp?id=tp-${Date.now()}-${i}`, "tp", auth);
  const bare = await throughput(() => `${BASE}/bench/publish`, "tp");
  const raw = await throughput(() => `${BASE}/bench/raw`, "raw");
  const nothing = await throughput(() => `${BASE}/bench/bare`);
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
  const rate = (r: Throughput, of: "accepted" | "done") => r[of].toFixed(0);
  row(
    "router POST /publish/:name accepted (202), events/s",
    rate(ours, "accepted"),
    rate(raw, "accepted"),
    ratio(ours.accepted, raw.accepted),
  );
  row("router POST to handler done, events/s", rate(ours, "done"), rate(raw, "done"), ratio(ours.done, raw.done));
  row(
    "bare fetch + bus.publish accepted, events/s",
    rate(bare, "accepted"),
    rate(raw, "accepted"),
    ratio(bare.accepted, raw.accepted),
  );
  row(
    "bare fetch + bus.publish to handler done, events/s",
    rate(bare, "done"),
    rate(raw, "done"),
    ratio(bare.done, raw.done),
  );
  // CPU per ingested event (the request, the publish, the queue delivery and the handler), in the
  // same run as a raw queue send consumed by a bare queue() and a Worker answering 202 with nothing.
  const ms = (r: Throughput) => r.cpu.toFixed(2);
  const per = (a: Throughput, b: Throughput) => (a.cpu / b.cpu).toFixed(2);
  row(
    "workerd CPU per event, ms: router (bearer + zod) to handler done (vs raw send + consume)",
    ms(ours),
    ms(raw),
    per(ours, raw),
  );
  row(
    "workerd CPU per event, ms: bare fetch + bus.publish (zod) to handler done (vs raw send + consume)",
    ms(bare),
    ms(raw),
    per(bare, raw),
  );
  row(
    "workerd CPU per request, ms: router ingest to handler done (vs a bare Worker's 202)",
    ms(ours),
    ms(nothing),
    per(ours, nothing),
  );
} finally {
  process.kill(-wrangler.pid!, "SIGTERM");
  await sleep(1_000);
  try {
    process.kill(-wrangler.pid!, "SIGKILL");
  } catch {
    // already gone
  }
  rmSync(state, { recursive: true, force: true });
}
