import assert from "node:assert/strict";
import { createServer } from "node:net";
import { type Bus, createBus, EdgebusError } from "../../mod.ts";
import { natsDriver } from "../../adapters/nats/mod.ts";
import { afterAll, describe, eventually, sleep, test } from "../lib/t.ts";
import { freshPrefix, testDriver } from "./helpers.ts";
import { startNatsServer } from "./server.ts";

const server = await startNatsServer();
afterAll(() => server.stop());

const isUnavailable = (error: unknown): boolean => error instanceof EdgebusError && error.code === "unavailable";

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function stopAll(...buses: Bus[]): Promise<void> {
  await Promise.all(buses.map((b) => b.stop({ gracePeriod: 500 })));
}

describe("nats", () => {
  test("natsDriver() without a global WebSocket or a connect function fails at once", () => {
    const g = globalThis as { WebSocket?: unknown };
    const saved = Object.getOwnPropertyDescriptor(g, "WebSocket");
    try {
      delete g.WebSocket;
      assert.equal(typeof g.WebSocket, "undefined");
      assert.throws(() => natsDriver({ servers: server.wsUrl }), (e: unknown) => {
        return isUnavailable(e) && /no global WebSocket/.test((e as Error).message);
      });
    } finally {
      if (saved) Object.defineProperty(g, "WebSocket", saved);
    }
  });

  test("natsDriver() refuses bad options with invalid_option", () => {
    const invalid = (e: unknown) => e instanceof EdgebusError && e.code === "invalid_option";
    assert.throws(() => testDriver(server, { group: "two words" }), invalid);
    assert.throws(() => testDriver(server, { prefix: "a.b" }), invalid);
    assert.throws(() => testDriver(server, { concurrency: 0 }), invalid);
    assert.throws(() => testDriver(server, { ackWait: 1.5 }), invalid);
    assert.throws(() => testDriver(server, { consume: ["user..joined"] }), (e: unknown) => e instanceof EdgebusError);
    assert.throws(
      () => testDriver(server, { routes: { BILLING: ["billing.>>"] } }),
      (e: unknown) => e instanceof EdgebusError,
    );
  });

  test("publish() rejects with an unavailable error within the timeout when NATS is unreachable", async () => {
    const port = await closedPort();
    const driver = testDriver({ ...server, wsUrl: `ws://127.0.0.1:${port}`, tcpUrl: `127.0.0.1:${port}` }, {
      timeout: 1_000,
    });
    const offline = createBus({ driver });
    const started = Date.now();
    await assert.rejects(offline.publish("user.joined", {}), isUnavailable);
    assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`);
    await stopAll(offline);
  });

  test("two processes in one group share the events and none is handled twice", async () => {
    const prefix = freshPrefix();
    const seen = new Map<string, number>();
    const by = { a: 0, b: 0 };
    const make = (who: "a" | "b") => {
      const bus = createBus({ driver: testDriver(server, { prefix, group: "workers", concurrency: 4 }) });
      bus.on("job.run", async (event) => {
        seen.set(event.id, (seen.get(event.id) ?? 0) + 1);
        by[who]++;
        await sleep(2);
      });
      return bus;
    };
    const [a, b] = [make("a"), make("b")];
    await Promise.all([a.start(), b.start()]);
    const ids = await a.publishBatch(Array.from({ length: 200 }, (_, i) => ({ name: "job.run", body: { i } })));
    await eventually(() => seen.size === 200, 15_000);
    await sleep(200);
    assert.deepEqual([...seen.values()].filter((n) => n !== 1), [], "an event was handled twice");
    assert.deepEqual(new Set(ids), new Set(seen.keys()));
    assert.ok(by.a > 0 && by.b > 0, `one process did all the work: ${JSON.stringify(by)}`);
    await stopAll(a, b);
  });

  test("two groups each get every event and keep their own records", async () => {
    const prefix = freshPrefix();
    const got: Record<string, string[]> = { billing: [], email: [] };
    const buses = ["billing", "email"].map((group) => {
      const bus = createBus({ driver: testDriver(server, { prefix, group }) });
      bus.on("user.joined", (event) => void got[group].push(event.id));
      return bus;
    });
    await Promise.all(buses.map((b) => b.start()));
    const id = await buses[0].publish("user.joined", { u: 1 });
    await eventually(() => got.billing.length === 1 && got.email.length === 1);
    assert.deepEqual(got, { billing: [id], email: [id] });
    for (const bus of buses) {
      await eventually(async () => (await bus.get(id))?.status === "done");
    }
    await stopAll(...buses);
  });

  test("a retry runs again only in the group whose handler failed", async () => {
    const prefix = freshPrefix();
    const runs = { ok: 0, flaky: 0 };
    const ok = createBus({ driver: testDriver(server, { prefix, group: "ok" }) });
    ok.on("task.new", () => void runs.ok++);
    const flaky = createBus({
      driver: testDriver(server, { prefix, group: "flaky" }),
      retry: { minDelay: 50, jitter: 0 },
    });
    flaky.on("task.new", () => {
      if (++runs.flaky < 3) throw new Error("not yet");
    });
    await Promise.all([ok.start(), flaky.start()]);
    const id = await ok.publish("task.new", {});
    await eventually(async () => (await flaky.get(id))?.status === "done");
    await sleep(300);
    assert.deepEqual(runs, { ok: 1, flaky: 3 });
    await stopAll(ok, flaky);
  });

  test("routes put events in their own stream and a process may consume only some names", async () => {
    const prefix = freshPrefix();
    const routes = { [`${prefix.toUpperCase()}_BILLING`]: ["billing.>"] };
    const seen: string[] = [];
    const billingOnly = createBus({
      driver: testDriver(server, { prefix, routes, group: "billing", consume: ["billing.>"] }),
    });
    billingOnly.on(">", (event) => void seen.push(event.name));
    await billingOnly.start();
    const publisher = createBus({ driver: testDriver(server, { prefix, routes, scheduler: false }) });
    await publisher.publish("billing.charged", {});
    await publisher.publish("user.joined", {});
    await publisher.publish("billing.refunded", { after: 300 }, {});
    await eventually(() => seen.length === 2);
    await sleep(200);
    assert.deepEqual(seen, ["billing.charged", "billing.refunded"]);
    await stopAll(billingOnly, publisher);
  });

  test("a handler running longer than the ack wait is not redelivered", async () => {
    const prefix = freshPrefix();
    let runs = 0;
    const make = () => {
      const bus = createBus({ driver: testDriver(server, { prefix, ackWait: 500 }), timeout: 10_000 });
      bus.on("report.build", async () => {
        runs++;
        await sleep(1_600);
      });
      return bus;
    };
    const [a, b] = [make(), make()];
    await Promise.all([a.start(), b.start()]);
    const id = await a.publish("report.build", {});
    await eventually(async () => (await a.get(id))?.status === "done", 5_000);
    await sleep(700);
    assert.equal(runs, 1);
    await stopAll(a, b);
  });

  test("a delayed event 360 days out fires once the clock gets there, not before", async () => {
    let offset = 0;
    const now = () => Date.now() + offset;
    const prefix = freshPrefix();
    const bus = createBus({ now, driver: testDriver(server, { prefix, now }) });
    const seen: number[] = [];
    bus.on("renewal.due", (event) => void seen.push(now() - (event.time + event.delay)));
    await bus.start();
    const id = await bus.publish("renewal.due", { after: "360 days" }, {});
    offset = 360 * 86_400_000 - 60_000; // a minute before: the scheduler catches up on the way
    await sleep(1_500);
    assert.deepEqual(seen, []);
    offset = 360 * 86_400_000 + 500;
    await eventually(() => seen.length === 1, 10_000);
    assert.ok(seen[0] >= 0, `delivered ${-seen[0]} ms early`);
    await eventually(async () => (await bus.get(id))?.status === "done");
    await stopAll(bus);
  });

  test("cancel() keeps a scheduled event from every group", async () => {
    let offset = 0;
    const now = () => Date.now() + offset;
    const prefix = freshPrefix();
    const got: Record<string, string[]> = { a: [], b: [] };
    const buses = ["a", "b"].map((group) => {
      const bus = createBus({ now, driver: testDriver(server, { prefix, group, now }) });
      bus.on("trial.ends", (event) => void got[group].push(event.id));
      return bus;
    });
    await Promise.all(buses.map((b) => b.start()));
    const cancelled = await buses[0].publish("trial.ends", { after: "1 hour" }, {});
    const kept = await buses[0].publish("trial.ends", { after: "1 hour" }, {});
    assert.equal(await buses[0].cancel(cancelled), true);
    offset = 3_600_000 + 500;
    await eventually(() => got.a.length === 1 && got.b.length === 1, 5_000);
    await sleep(300);
    assert.deepEqual(got, { a: [kept], b: [kept] });
    await stopAll(...buses);
  });

  test("cancel() reaches an event the scheduler already holds in its last seconds", async () => {
    let offset = 0;
    const now = () => Date.now() + offset;
    const prefix = freshPrefix();
    const got: string[] = [];
    const publisher = createBus({ now, driver: testDriver(server, { prefix, group: "a", now }) });
    const other = createBus({ now, driver: testDriver(server, { prefix, group: "b", now, scheduler: false }) });
    other.on("trial.ends", (event) => void got.push(event.id));
    await Promise.all([publisher.start(), other.start()]);
    const id = await publisher.publish("trial.ends", { after: "1 hour" }, {});
    offset = 3_600_000 - 1_200; // the bucket is now within the scheduler's look-ahead
    await sleep(400);
    assert.equal(await publisher.cancel(id), true);
    await sleep(1_300);
    assert.deepEqual(got, []);
    await stopAll(publisher, other);
  });

  test("events published while a group's processes are down reach it when one starts again", async () => {
    const prefix = freshPrefix();
    const first = createBus({ driver: testDriver(server, { prefix, group: "workers" }) });
    first.on("order.placed", () => {});
    await first.start();
    await first.stop();
    const publisher = createBus({ driver: testDriver(server, { prefix, group: "api", scheduler: false }) });
    const ids = await publisher.publishBatch([1, 2, 3].map((n) => ({ name: "order.placed", body: { n } })));
    const seen: string[] = [];
    const second = createBus({ driver: testDriver(server, { prefix, group: "workers" }) });
    second.on("order.placed", (event) => void seen.push(event.id));
    await second.start();
    await eventually(() => seen.length === 3);
    assert.deepEqual(seen.sort(), [...ids].sort());
    await stopAll(publisher, second);
  });
});
