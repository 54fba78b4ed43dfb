// deno-lint-ignore-file no-explicit-any
import assert from "node:assert/strict";
import type { Hono } from "hono";
import { createBus } from "../../mod.ts";
import { router } from "../../adapters/hono/mod.ts";
import { describe, eventually, RUNTIME, test } from "../lib/t.ts";
import { countingStream, SECRET, signed, TOKEN } from "./helpers.ts";

interface Served {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves the app with the runtime's own server on a free loopback port. */
async function serve(app: Hono<any>): Promise<Served> {
  const g = globalThis as any;
  if (RUNTIME === "deno") {
    const server = g.Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
    return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
  }
  if (RUNTIME === "bun") {
    const server = g.Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
    return { url: `http://127.0.0.1:${server.port}`, close: async () => void await server.stop(true) };
  }
  const { serve: nodeServe } = await import("@hono/node-server");
  return await new Promise((resolve) => {
    const server = nodeServe({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () => new Promise<void>((done) => (server as any).close(() => done())),
      });
    });
  });
}

describe(`hono router on a real ${RUNTIME} server`, () => {
  test("publishes, reads back, refuses bad credentials and oversized chunked bodies", async () => {
    const bus = createBus();
    const seen: unknown[] = [];
    bus.on("order.placed", (event) => void seen.push(event.body));
    const app = router(bus, { tokens: [TOKEN], signingSecrets: [SECRET], onError: () => {} });
    const server = await serve(app);
    try {
      const health = await fetch(`${server.url}/health`);
      assert.deepEqual([health.status, await health.json()], [200, { status: "ok" }]);

      const body = JSON.stringify({ order: 42 });
      const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
      const published = await fetch(`${server.url}/events/order.placed`, {
        method: "POST",
        body,
        headers: { ...headers, ...await signed(body) },
      });
      assert.equal(published.status, 202);
      const { id } = await published.json();
      await eventually(() => seen.length === 1);
      assert.deepEqual(seen, [{ order: 42 }]);
      const record = await fetch(`${server.url}/events/${id}`, { headers: { ...headers, ...await signed("") } });
      assert.equal((await record.json()).status, "done");

      const forged = await fetch(`${server.url}/events/order.placed`, {
        method: "POST",
        body: JSON.stringify({ order: 43 }),
        headers: { ...headers, ...await signed(body) },
      });
      assert.equal(forged.status, 403);
      await forged.body?.cancel();
      const anonymous = await fetch(`${server.url}/events`);
      assert.equal(anonymous.status, 401);
      await anonymous.body?.cancel();

      const { stream } = countingStream(new TextEncoder().encode(" ".repeat(16 * 1024)), 64);
      const chunked = await fetch(`${server.url}/events/order.placed`, {
        method: "POST",
        body: stream,
        headers: { ...headers, ...await signed("") },
        duplex: "half",
      } as RequestInit);
      assert.equal(chunked.status, 413);
      assert.equal((await chunked.json()).error.code, "too_large");
      assert.equal((await bus.list()).items.length, 1);
    } finally {
      await server.close();
      await bus.stop();
    }
  });
});
