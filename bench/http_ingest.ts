// deno-lint-ignore-file no-explicit-any
/**
 * HTTP ingest through the Hono router: requests per second and p99 latency of
 * `POST /events/:name` with bearer auth, a signed body, a zod schema and a publish to the memory
 * driver, against a bare Hono route answering 202 on the same runtime, in the same run; and
 * against a Hono route doing the same publish without the router, to separate the router's
 * own cost (auth, input checks) from the bus's; and a Hono route that only reads the JSON body,
 * the floor under any route that takes an event. The
 * load comes from wrk (one thread, 50 connections, loopback) when it is installed
 * (`apt-get install -y wrk`), else from autocannon in a Node process, which saturates sooner
 * and so understates the router's cost.
 *
 * Run: `deno run -A bench/http_ingest.ts` or `bun bench/http_ingest.ts`.
 * `BENCH_SECONDS` sets the length of each measured run (default 8; a 2 s warm-up precedes it).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { z } from "zod";
import { type Bus, createBus } from "../mod.ts";
import { router, signBody } from "../adapters/hono/mod.ts";
import { row, runtime } from "./lib.ts";

const g = globalThis as any;
const SECONDS = Number(g.Deno?.env.get("BENCH_SECONDS") ?? g.process?.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = 50;
const TOKEN = "tok_bench_0123456789abcdef";
const SECRET = "whsec_bench_0123456789abcdef";
const BODY = JSON.stringify({ user_id: "2b6m", email: "new@example.com", plan: "pro" });

interface Figures {
  readonly rps: number;
  readonly p99: number;
  readonly non2xx: number;
}

function serve(fetch: (request: Request) => Response | Promise<Response>): { port: number; stop: () => Promise<void> } {
  if (g.Deno) {
    const server = g.Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, fetch);
    return { port: server.addr.port, stop: () => server.shutdown() };
  }
  const server = g.Bun.serve({ port: 0, hostname: "127.0.0.1", fetch });
  return { port: server.port, stop: async () => void await server.stop(true) };
}

const WRK = ["/usr/bin/wrk", "/usr/local/bin/wrk"].find((path) => existsSync(path));
const TOOL = WRK ? "wrk" : "autocannon";

async function run(cmd: string[]): Promise<string> {
  if (g.Deno) {
    const out = await new g.Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(out.stdout);
  }
  const child = g.Bun.spawn(cmd, { stdout: "pipe", stderr: "ignore" });
  const text = await new Response(child.stdout).text();
  await child.exited;
  return text;
}

async function autocannon(url: string, headers: Record<string, string>, seconds: number): Promise<Figures> {
  const args = ["-c", String(CONNECTIONS), "-d", String(seconds), "-m", "POST", "-b", BODY, "--json"];
  for (const [key, value] of Object.entries(headers)) args.push("-H", `${key}=${value}`);
  const result = JSON.parse(await run(["node", "node_modules/autocannon/autocannon.js", ...args, url]));
  return { rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx + result.errors };
}

const MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

async function wrk(url: string, headers: Record<string, string>, seconds: number): Promise<Figures> {
  const lines = ['wrk.method = "POST"', `wrk.body = ${JSON.stringify(BODY)}`];
  for (const [key, value] of Object.entries(headers)) {
    lines.push(`wrk.headers[${JSON.stringify(key)}] = ${JSON.stringify(value)}`);
  }
  const dir = mkdtempSync(join(tmpdir(), "edgebus-bench-"));
  const script = join(dir, "post.lua");
  writeFileSync(script, lines.join("\n"));
  const args = ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency", "-s", script, url];
  const out = await run([WRK!, ...args]).finally(() => rmSync(dir, { recursive: true, force: true }));
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (!rps || !p99) throw new Error(`Could not read wrk's output:\n${out}`);
  const failed = errors ? Number(errors[1]) + Number(errors[3]) + Number(errors[4]) : 0;
  return { rps, p99: Number(p99[1]) * MS[p99[2]], non2xx: non2xx + failed };
}

const load = WRK ? wrk : autocannon;

async function measure(url: string, headers: Record<string, string>): Promise<Figures> {
  await load(url, headers, 2); // warm-up: JIT and connection set-up
  return await load(url, headers, SECONDS);
}

const schema = z.object({ user_id: z.string(), email: z.email(), plan: z.string() });
const json = { "content-type": "application/json" };
const auth = { ...json, authorization: `Bearer ${TOKEN}` };

/**
 * Serves one app on a fresh bus, loads it, then stops both, so that one run's records do not
 * weigh on the heap of the next.
 */
async function variant(
  make: (bus: Bus) => { fetch: (request: Request) => Response | Promise<Response> },
  headers: Record<string, string>,
): Promise<Figures> {
  const bus = createBus({ schemas: { "user.joined": schema } });
  const server = serve(make(bus).fetch);
  const url = `http://127.0.0.1:${server.port}/events/user.joined`;
  try {
    return await measure(url, headers);
  } finally {
    await server.stop();
    await bus.stop();
  }
}

const bareApp = (): Hono => new Hono().post("/events/:name", (c) => c.json({ id: "x" }, 202));
// The body read alone, no bus: the floor under any route that takes an event.
const bodyApp = (): Hono =>
  new Hono().post("/events/:name", async (c) => {
    await c.req.json();
    return c.json({ id: "x" }, 202);
  });
// The same publish without the router: what the router's auth and input checks are measured against.
const rawApp = (bus: Bus): Hono =>
  new Hono().post("/events/:name", async (c) => {
    const id = await bus.publish(c.req.param("name"), { origin: "http" }, await c.req.json());
    return c.json({ id }, 202);
  });

// A signature stays valid for 300 s, longer than the run: one signed header serves every request.
const signature = await signBody(SECRET, BODY);
const peer = await variant(bareApp, json);
const body = await variant(bodyApp, json);
const raw = await variant(rawApp, json);
const token = await variant((bus) => router(bus, { tokens: [TOKEN] }), auth);
const signed = await variant(
  (bus) => router(bus, { tokens: [TOKEN], signingSecrets: [SECRET] }),
  { ...auth, "edgebus-signature": signature },
);

const fmt = (f: Figures): string => `${Math.round(f.rps).toLocaleString("en-US")} req/s`;
console.log(`${runtime}, ${TOOL}, ${CONNECTIONS} connections, ${SECONDS} s a run; bare Hono 202 is the peer`);
console.log("| figure | ours | peer | ratio |");
row(
  `${runtime}: ingest req/s, bearer + zod + memory publish`,
  fmt(token),
  fmt(peer),
  (token.rps / peer.rps).toFixed(2),
);
row(
  `${runtime}: ingest req/s, bearer + signature + zod + publish`,
  fmt(signed),
  fmt(peer),
  (signed.rps / peer.rps).toFixed(2),
);
row(
  `${runtime}: ingest p99 latency, bearer + zod + publish`,
  `${token.p99.toFixed(1)} ms`,
  `${peer.p99.toFixed(1)} ms`,
  (token.p99 / peer.p99).toFixed(2),
);
row(
  `${runtime}: ingest p99 latency, bearer + signature + zod`,
  `${signed.p99.toFixed(1)} ms`,
  `${peer.p99.toFixed(1)} ms`,
  (signed.p99 / peer.p99).toFixed(2),
);
row(
  `${runtime}: ingest req/s, router (bearer) vs Hono + bus.publish`,
  fmt(token),
  fmt(raw),
  (token.rps / raw.rps).toFixed(2),
);
row(`${runtime}: Hono + bus.publish (no router) vs bare 202`, fmt(raw), fmt(peer), (raw.rps / peer.rps).toFixed(2));
row(
  `${runtime}: Hono reading the JSON body, no bus (the floor) vs bare 202`,
  fmt(body),
  fmt(peer),
  (body.rps / peer.rps).toFixed(2),
);
const refused = token.non2xx + signed.non2xx + peer.non2xx + raw.non2xx + body.non2xx;
if (refused > 0) {
  console.error(`${refused} responses were not 2xx or failed: the figures are not valid`);
  g.Deno ? g.Deno.exit(1) : g.process.exit(1);
}
