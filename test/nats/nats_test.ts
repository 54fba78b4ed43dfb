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
    assert.throws(() => testDriver(server, { registryTtl: -1 }), invalid);
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

  test("rolling deploy: an event only the new version handles runs once, there, and the old one never settles it", async () => {
    const prefix = freshPrefix();
    const runs = { oldJoined: 0, newJoined: 0, deleted: 0 };
    const deletedIds = new Map<string, number>();
    const old = createBus({ driver: testDriver(server, { prefix }) });
    old.on("user.joined", { id: "welcome" }, () => void runs.oldJoined++);
    const next = createBus({ driver: testDriver(server, { prefix }) });
    next.on("user.joined", { id: "welcome" }, () => void runs.newJoined++);
    next.on("user.deleted", { id: "cleanup" }, (event) => {
      runs.deleted++;
      deletedIds.set(event.id, (deletedIds.get(event.id) ?? 0) + 1);
    });
    const idle = createBus({ driver: testDriver(server, { prefix, scheduler: false }) }); // started, no handler
    const api = createBus({ driver: testDriver(server, { prefix, scheduler: false }) }); // publishes only
    await Promise.all([old.start(), next.start(), idle.start()]);
    const ids = await api.publishBatch(Array.from({ length: 200 }, (_, i) => ({ name: "user.deleted", body: { i } })));
    await api.publishBatch(Array.from({ length: 20 }, (_, i) => ({ name: "user.joined", body: { i } })));
    await eventually(() => deletedIds.size === 200 && runs.oldJoined + runs.newJoined === 20, 15_000);
    await sleep(300);
    assert.equal(runs.deleted, 200, "a user.deleted ran twice");
    assert.equal(runs.oldJoined + runs.newJoined, 20, `welcome ran twice somewhere: ${JSON.stringify(runs)}`);
    for (const id of ids.slice(0, 20)) {
      const record = await api.get(id);
      assert.equal(record?.status, "done");
      assert.equal(record?.noHandler, undefined);
      assert.deepEqual(Object.keys(record!.handlers), ["cleanup"]);
      assert.equal(record!.handlers.cleanup.attempts, 1);
    }
    await stopAll(old, next, idle, api);
  });

  test("an event no handler takes is recorded as such, and replay() runs it once a handler exists", async () => {
    const prefix = freshPrefix();
    const api = createBus({ driver: testDriver(server, { prefix, scheduler: false }) });
    const id = await api.publish("invoice.sent", { n: 1 });
    const record = await eventually(async () => (await api.get(id))?.noHandler ? await api.get(id) : undefined);
    assert.equal(record.status, "done");
    const seen: string[] = [];
    const worker = createBus({ driver: testDriver(server, { prefix }) });
    worker.on("invoice.*", { id: "archive" }, (event) => void seen.push(event.id));
    await worker.start();
    await sleep(300);
    assert.deepEqual(seen, [], "a new handler must not run history by itself");
    assert.equal(await api.deadLetters.replay(id), true);
    const replayed = await api.get(id);
    assert.ok(
      replayed?.status === "pending" || replayed?.handlers.archive?.status === "done",
      `a replayed event waits for its handler: ${JSON.stringify(replayed)}`,
    );
    await eventually(() => seen.length === 1);
    const after = await eventually(async () => (await api.get(id))?.status === "done" ? await api.get(id) : undefined);
    assert.equal(after.handlers.archive.status, "done");
    assert.equal(after.noHandler, undefined);
    await stopAll(api, worker);
  });

  test("a handler that first appears starts from events published after it, not from history", async () => {
    const prefix = freshPrefix();
    const first = createBus({ driver: testDriver(server, { prefix }) });
    first.on("order.placed", { id: "charge" }, () => {});
    await first.start();
    const old = await first.publishBatch([1, 2, 3].map((n) => ({ name: "order.placed", body: { n } })));
    await eventually(async () => (await first.get(old[2]))?.status === "done");
    const seen: string[] = [];
    const second = createBus({ driver: testDriver(server, { prefix }) });
    second.on("order.placed", { id: "ship" }, (event) => void seen.push(event.id));
    await second.start();
    const fresh = await first.publish("order.placed", { n: 4 });
    await eventually(() => seen.length === 1);
    await sleep(200);
    assert.deepEqual(seen, [fresh]);
    // The older events stay done: the new handler did not exist for them.
    assert.equal((await second.get(old[0]))?.status, "done");
    await stopAll(first, second);
  });

  test("two processes with the same handler share its work and count every attempt", async () => {
    const prefix = freshPrefix();
    const seen = new Map<string, number>();
    const by = { a: 0, b: 0 };
    const make = (who: "a" | "b") => {
      const bus = createBus({
        driver: testDriver(server, { prefix, concurrency: 4 }),
        retry: { minDelay: 50, maxDelay: 50, jitter: 0 },
      });
      bus.on("job.run", { id: "runner" }, async (event) => {
        const n = (seen.get(event.id) ?? 0) + 1;
        seen.set(event.id, n);
        by[who]++;
        await sleep(2);
        if ((event.body as { i: number }).i % 10 === 0 && n === 1) throw new Error("first try fails");
      });
      return bus;
    };
    const [a, b] = [make("a"), make("b")];
    const api = createBus({ driver: testDriver(server, { prefix, scheduler: false }) });
    await Promise.all([a.start(), b.start()]);
    const ids = await api.publishBatch(Array.from({ length: 100 }, (_, i) => ({ name: "job.run", body: { i } })));
    await eventually(
      async () => (await Promise.all(ids.map((id) => api.get(id)))).every((r) => r?.status === "done"),
      15_000,
    );
    const expected = ids.map((_, i) => (i % 10 === 0 ? 2 : 1));
    assert.deepEqual(ids.map((id) => seen.get(id)), expected, "a run was lost or doubled");
    const records = await Promise.all(ids.map((id) => api.get(id)));
    assert.deepEqual(records.map((r) => r!.handlers.runner.attempts), expected);
    assert.ok(by.a > 0 && by.b > 0, `one process did all the work: ${JSON.stringify(by)}`);
    await stopAll(a, b, api);
  });

  test("concurrency bounds handlers running, and a process holds only a few times that many events", async () => {
    const prefix = freshPrefix();
    let running = 0;
    let most = 0;
    const by = { a: 0, b: 0 };
    const make = (who: "a" | "b") => {
      const bus = createBus({ driver: testDriver(server, { prefix, concurrency: 2 }) });
      bus.on("job.slow", { id: "slow" }, async () => {
        most = Math.max(most, ++running);
        await sleep(40);
        running--;
        by[who]++;
      });
      return bus;
    };
    const [a, b] = [make("a"), make("b")];
    await a.start();
    const ids = await a.publishBatch(Array.from({ length: 40 }, (_, i) => ({ name: "job.slow", body: { i } })));
    // b starts once a is busy: what a did not take is left for b.
    await eventually(() => by.a > 0);
    await b.start();
    await eventually(async () => (await Promise.all(ids.map((id) => a.get(id)))).every((r) => r?.status === "done"));
    assert.equal(by.a + by.b, 40, "a run was lost or doubled");
    // Two processes of two slots each: never more than four at once, and b, started late, took a
    // fair share (a process that pulled every waiting event would have left it idle).
    assert.ok(most <= 4, `${most} handlers ran at once`);
    assert.ok(by.a >= 8 && by.b >= 8, `the work was not shared: ${JSON.stringify(by)}`);
    await stopAll(a, b);
  });

  test("two services each get every event under their own group, in one record", async () => {
    const prefix = freshPrefix();
    const got: Record<string, string[]> = { billing: [], email: [] };
    const buses = ["billing", "email"].map((group) => {
      const bus = createBus({ driver: testDriver(server, { prefix, group }) });
      bus.on("user.joined", (event) => void got[group].push(event.id)); // the same default id in both
      return bus;
    });
    await Promise.all(buses.map((b) => b.start()));
    const id = await buses[0].publish("user.joined", { u: 1 });
    await eventually(() => got.billing.length === 1 && got.email.length === 1);
    const record = await eventually(async () =>
      (await buses[1].get(id))?.status === "done" ? await buses[1].get(id) : undefined
    );
    assert.deepEqual(Object.keys(record.handlers).sort(), ["billing:user.joined#1", "email:user.joined#1"]);
    await stopAll(...buses);
  });

  test("a publish-only process sees a failed-then-succeeded handler as done with 2 attempts, in get and list", async () => {
    const prefix = freshPrefix();
    let runs = 0;
    const worker = createBus({ driver: testDriver(server, { prefix }), retry: { minDelay: 50, jitter: 0 } });
    worker.on("task.new", { id: "flaky" }, () => {
      if (++runs < 2) throw new Error("not yet");
    });
    await worker.start();
    const api = createBus({ driver: testDriver(server, { prefix, scheduler: false }) });
    const id = await api.publish("task.new", {});
    const record = await eventually(async () => (await api.get(id))?.status === "done" ? await api.get(id) : undefined);
    assert.equal(record.handlers.flaky.attempts, 2);
    assert.equal(record.attempt, 2);
    const page = await api.list({ status: "done", name: "task.*" });
    assert.deepEqual(page.items.map((r) => [r.id, r.handlers.flaky.attempts]), [[id, 2]]);
    await stopAll(worker, api);
  });

  test("cancel() from a process without handlers stops a delayed event for every handler, whatever its delay", async () => {
    let offset = 0;
    const now = () => Date.now() + offset;
    const prefix = freshPrefix();
    const got: Record<string, string[]> = { a: [], b: [] };
    const buses = ["a", "b"].map((group) => {
      const bus = createBus({ now, driver: testDriver(server, { prefix, group, now }) });
      bus.on("trial.ends", (event) => void got[group].push(event.id));
      return bus;
    });
    const api = createBus({ now, driver: testDriver(server, { prefix, scheduler: false, now }) });
    await Promise.all(buses.map((b) => b.start()));
    const soon = await api.publish("trial.ends", { after: 1_500 }, {});
    const cancelled = await api.publish("trial.ends", { after: "1 hour" }, {});
    const kept = await api.publish("trial.ends", { after: "1 hour" }, {});
    assert.equal(await api.cancel(soon), true);
    assert.equal(await api.cancel(cancelled), true);
    assert.equal(await api.cancel(cancelled), false, "cancelled twice");
    assert.equal(await api.cancel("no-such-event"), false);
    assert.equal((await buses[1].get(cancelled))?.status, "cancelled");
    await sleep(1_800);
    offset = 3_600_000 + 500;
    await eventually(() => got.a.length === 1 && got.b.length === 1, 5_000);
    await sleep(300);
    assert.deepEqual(got, { a: [kept], b: [kept] });
    assert.equal(await api.cancel(kept), false, "it already ran");
    await stopAll(...buses, api);
  });

  test("an id is published once for as long as its event is kept, beyond the duplicate window", async () => {
    const prefix = freshPrefix();
    const seen: string[] = [];
    const bus = createBus({ driver: testDriver(server, { prefix, duplicateWindow: 100 }), dedupWindow: 100 });
    bus.on("pay.once", { id: "pay" }, (event) => void seen.push(event.id));
    await bus.start();
    await bus.publish("pay.once", { id: "order-7" }, { n: 1 });
    await bus.publish("pay.once", { id: "later-7", after: "1 hour" }, { n: 1 });
    await sleep(400);
    assert.equal(await bus.publish("pay.once", { id: "order-7" }, { n: 2 }), "order-7");
    await bus.publish("pay.once", { id: "later-7", after: "2 hours" }, { n: 2 });
    await sleep(300);
    assert.deepEqual(seen, ["order-7"]);
    assert.deepEqual((await bus.get("order-7"))?.body, { n: 1 });
    assert.equal((await bus.get("later-7"))?.due, (await bus.get("later-7"))!.time + 3_600_000);
    await stopAll(bus);
  });

  test("a handler no process runs for eventsMaxAge is retired, and no record waits for it", async () => {
    const prefix = freshPrefix();
    const options = { prefix, eventsMaxAge: 1_500, duplicateWindow: 500 };
    const gone = createBus({ driver: testDriver(server, options) });
    gone.on("legacy.event", { id: "legacy" }, () => {});
    await gone.start();
    await gone.stop();
    const api = createBus({ driver: testDriver(server, { ...options, scheduler: false }) });
    const id = await api.publish("legacy.event", {});
    assert.equal((await api.get(id))?.status, "pending");
    await sleep(3_000);
    const later = await api.publish("legacy.event", {});
    const record = await eventually(async () => (await api.get(later))?.noHandler ? await api.get(later) : undefined);
    assert.equal(record.status, "done");
    assert.equal(await api.get(id), undefined, "the event expired with its handler");
    await stopAll(api);
  });

  test("routes put events in their own stream", async () => {
    const prefix = freshPrefix();
    const routes = { [`${prefix.toUpperCase()}_BILLING`]: ["billing.>"] };
    const seen: string[] = [];
    const billing = createBus({ driver: testDriver(server, { prefix, routes }) });
    billing.on("billing.>", (event) => void seen.push(event.name));
    await billing.start();
    const publisher = createBus({ driver: testDriver(server, { prefix, routes, scheduler: false }) });
    await publisher.publish("billing.charged", {});
    const other = await publisher.publish("user.joined", {});
    await publisher.publish("billing.refunded", { after: 300 }, {});
    await eventually(() => seen.length === 2);
    await sleep(200);
    assert.deepEqual(seen, ["billing.charged", "billing.refunded"]);
    assert.equal((await publisher.get(other))?.noHandler, true);
    await stopAll(billing, publisher);
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

  test("a process keeps a long handler's event its own under the consumer's ack wait, not its own setting", async () => {
    const prefix = freshPrefix();
    let runs = 0;
    // The first version to run made the consumers with a 500 ms ack wait; a process whose own
    // setting is the 30 s default must still say "working" often enough for that.
    const first = createBus({ driver: testDriver(server, { prefix, ackWait: 500 }) });
    first.on("report.build", { id: "build" }, () => {});
    await first.start();
    await first.stop();
    const later = createBus({ driver: testDriver(server, { prefix }), timeout: 10_000 });
    later.on("report.build", { id: "build" }, async () => {
      runs++;
      await sleep(1_600);
    });
    await later.start();
    const id = await later.publish("report.build", {});
    await eventually(async () => (await later.get(id))?.status === "done", 5_000);
    await sleep(700);
    assert.equal(runs, 1, "the event was redelivered while its handler ran");
    await stopAll(later);
  });

  test("an event waiting behind a slow handler's backlog is kept in work, not redelivered and run twice", async () => {
    const prefix = freshPrefix();
    // Consumers made with a 1 s ack wait, as an earlier version of the service might have set.
    const first = createBus({ driver: testDriver(server, { prefix, ackWait: 1_000 }) });
    first.on("user.joined", { id: "welcome" }, () => {});
    first.on("user.deleted", { id: "erase" }, () => {});
    await first.start();
    await first.stop();
    const welcomed: string[] = [];
    const worker = createBus({ driver: testDriver(server, { prefix, concurrency: 1 }), timeout: 10_000 });
    worker.on("user.joined", { id: "welcome" }, (event) => void welcomed.push(event.id));
    worker.on("user.deleted", { id: "erase" }, () => sleep(1_200));
    await worker.start();
    await worker.publishBatch(Array.from({ length: 8 }, (_, i) => ({ name: "user.deleted", body: { i } })));
    const id = await worker.publish("user.joined", {});
    await eventually(async () => (await worker.get(id))?.status === "done", 10_000);
    await sleep(300);
    assert.deepEqual(welcomed, [id], "the event ran again");
    assert.equal((await worker.get(id))?.handlers.welcome.attempts, 1);
    await stopAll(worker);
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
    assert.equal((await bus.get(id))?.status, "scheduled");
    offset = 360 * 86_400_000 - 60_000; // a minute before: the scheduler catches up on the way
    await sleep(1_500);
    assert.deepEqual(seen, []);
    offset = 360 * 86_400_000 + 500;
    await eventually(() => seen.length === 1, 10_000);
    assert.ok(seen[0] >= 0, `delivered ${-seen[0]} ms early`);
    await eventually(async () => (await bus.get(id))?.status === "done");
    await stopAll(bus);
  });

  test("events published while a handler's processes are down reach it when one starts again", async () => {
    const prefix = freshPrefix();
    const first = createBus({ driver: testDriver(server, { prefix }) });
    first.on("order.placed", { id: "ship" }, () => {});
    await first.start();
    await first.stop();
    const publisher = createBus({ driver: testDriver(server, { prefix, scheduler: false }) });
    const ids = await publisher.publishBatch([1, 2, 3].map((n) => ({ name: "order.placed", body: { n } })));
    assert.equal((await publisher.get(ids[0]))?.status, "pending");
    const seen: string[] = [];
    const second = createBus({ driver: testDriver(server, { prefix }) });
    second.on("order.placed", { id: "ship" }, (event) => void seen.push(event.id));
    await second.start();
    await eventually(() => seen.length === 3);
    assert.deepEqual(seen.sort(), [...ids].sort());
    await stopAll(publisher, second);
  });
});
