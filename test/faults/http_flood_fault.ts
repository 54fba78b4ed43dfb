/**
 * Fault 8: the HTTP router under a flood of refused and accepted requests, over a real
 * `Bun.serve` (or `Deno.serve`) on loopback: no 5xx, every accepted publish handled exactly
 * once, no refused request ever published, and the heap bounded (refused requests leave
 * nothing behind).
 */
// deno-lint-ignore-file no-explicit-any
import { createBus, memoryDriver } from "../../mod.ts";
import { router } from "../../adapters/hono/mod.ts";
import { gc, heapUsed } from "../../bench/lib.ts";
import { Ledger, SHORT, waitFor } from "./ledger.ts";

const ROUNDS = SHORT ? 4 : 40;
const PER_ROUND = 500;
const IN_FLIGHT = 32;
const TOKEN = "tok_flood_0123456789abcdef";
const LIMITED = "tok_limited_0123456789abcdef";

const g = globalThis as any;
function serve(fetch: (r: Request) => Response | Promise<Response>): { url: string; stop(): Promise<void> } {
  if (g.Bun) {
    const server = g.Bun.serve({ port: 0, hostname: "127.0.0.1", fetch });
    return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
  }
  const server = g.Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, fetch);
  return { url: `http://127.0.0.1:${server.addr.port}`, stop: () => server.shutdown() };
}

const ledger = new Ledger();
const bus = createBus({ driver: memoryDriver({ retention: 1_000 }) });
bus.on("flood.accepted", (event) => {
  const { seq } = event.body as { seq: number };
  ledger.effect("http", seq);
});
bus.on(">", { id: "catch-all" }, (event) => {
  if (event.name !== "flood.accepted") ledger.unexpected(`a refused request was published as ${event.name}`);
});
const app = router(bus, { tokens: [TOKEN] });
// A second router on the same bus, with a tight per-token budget, so that 429s are in the mix.
const limited = router(bus, { tokens: [LIMITED], rateLimit: { limit: 20, window: 60_000 } });
const server = serve((request) =>
  new URL(request.url).pathname.startsWith("/limited/")
    ? limited.fetch(new Request(request.url.replace("/limited/", "/"), request))
    : app.fetch(request)
);
const statuses = new Map<number, number>();
let seq = 0;

/** One request of each kind, in turn; the expected status is checked. */
function request(i: number): [string, RequestInit, number | "202 or 429", number?] {
  const json = { "content-type": "application/json", authorization: `Bearer ${TOKEN}` };
  switch (i % 9) {
    case 0:
    case 1: {
      const n = seq++;
      return [
        `/events/flood.accepted?id=http-${n}`,
        { method: "POST", headers: json, body: JSON.stringify({ seq: n }) },
        202,
        n,
      ];
    }
    case 2:
      return ["/events/flood.refused", { method: "POST", headers: json, body: "{not json" }, 400];
    case 3:
      return ["/events/flood..refused", { method: "POST", headers: json, body: "{}" }, 400];
    case 4:
      return [
        "/events/flood.refused",
        { method: "POST", headers: { authorization: `Bearer ${TOKEN}` }, body: "{}" },
        415,
      ];
    case 5:
      return [
        "/events/flood.refused",
        { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
        401,
      ];
    case 6:
      return ["/events/flood.refused", {
        method: "POST",
        headers: { ...json, authorization: "Bearer tok_wrong_0123456789abcdef" },
        body: "{}",
      }, 403];
    case 7:
      return ["/events/flood.refused", {
        method: "POST",
        headers: json,
        body: JSON.stringify({ pad: "x".repeat(300_000) }),
      }, 413];
    default: {
      const n = seq++;
      const headers = { "content-type": "application/json", authorization: `Bearer ${LIMITED}` };
      return [
        `/limited/events/flood.accepted?id=http-${n}`,
        { method: "POST", headers, body: JSON.stringify({ seq: n }) },
        "202 or 429",
        n,
      ];
    }
  }
}

async function round(): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < PER_ROUND) {
      const [path, init, expected, n] = request(next++);
      const response = await fetch(server.url + path, init);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const body = await response.json().catch(() => undefined);
      if (response.status >= 500) ledger.unexpected(`${response.status} for ${path}: ${JSON.stringify(body)}`);
      else if (expected === "202 or 429" ? ![202, 429].includes(response.status) : response.status !== expected) {
        ledger.unexpected(`${response.status} (expected ${expected}) for ${path}`);
      }
      if (n !== undefined && response.status === 202) ledger.ack("http", n, body.id);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

await round(); // warm up
await waitFor(() => ledger.complete(), 10_000);
gc();
const before = heapUsed();
for (let r = 1; r < ROUNDS; r++) await round();
await waitFor(() => ledger.complete(), 20_000);
await new Promise((resolve) => setTimeout(resolve, 1_100)); // past the records' retention
gc();
const growth = (heapUsed() - before) / 2 ** 20;
if (growth > 32) ledger.unexpected(`the heap grew ${growth.toFixed(1)} MiB over ${ROUNDS - 1} rounds`);
await server.stop();
await bus.stop();
const by = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`).join(",");
ledger.print("http flood", { requests: ROUNDS * PER_ROUND, statuses: by, heap_growth_mib: growth.toFixed(1) });
