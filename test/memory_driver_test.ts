import assert from "node:assert/strict";
import { createBus, type Driver, memoryDriver } from "../mod.ts";
import { memoryStore } from "../driver/mod.ts";
import { describe, eventually, sleep, test } from "./lib/t.ts";

describe("memory driver", () => {
  test("a delay of months does not overflow the timer (nothing arrives early)", async () => {
    const bus = createBus();
    let runs = 0;
    bus.on("renewal.due", () => void runs++);
    // 2^31 ms is about 24.8 days: a naive setTimeout with 60 days fires at once.
    const id = await bus.publish("renewal.due", { after: "2 months" }, {});
    await bus.publish("renewal.due", { after: 2 ** 31 + 5 }, {});
    await sleep(100);
    assert.equal(runs, 0);
    assert.equal((await bus.get(id))?.status, "scheduled");
    await bus.stop();
  });

  test("delayed events fire in due order, and an earlier one re-arms the timer", async () => {
    const bus = createBus();
    const order: number[] = [];
    bus.on("tick", (e) => void order.push(e.body as number));
    await bus.publish("tick", { after: 300 }, 3);
    await bus.publish("tick", { after: 200 }, 2);
    await bus.publish("tick", { after: 100 }, 1);
    await bus.publish("tick", 0);
    await eventually(() => order.length === 4);
    assert.deepEqual(order, [0, 1, 2, 3]);
    await bus.stop();
  });

  test("at most `concurrency` events run at once", async () => {
    const bus = createBus({ driver: memoryDriver({ concurrency: 3 }) });
    let running = 0;
    let peak = 0;
    let done = 0;
    bus.on("work", async () => {
      peak = Math.max(peak, ++running);
      await sleep(10);
      running--;
      done++;
    });
    await bus.publishBatch(Array.from({ length: 20 }, (_, i) => ({ name: "work", body: i })));
    await eventually(() => done === 20);
    assert.equal(peak, 3);
    await bus.stop();
  });

  test("the store forgets finished records after the retention period, but keeps dead letters", async () => {
    let clock = 1_000_000;
    const store = memoryStore({ retention: 1_000, now: () => clock });
    const base = { name: "a", body: null, delay: 0, due: 0, attempt: 1, handlers: {}, correlationId: "c" };
    await store.create([{ ...base, id: "old-done", time: clock, status: "done", updatedAt: clock }], 0);
    await store.create([{ ...base, id: "old-dead", time: clock, status: "dead", updatedAt: clock }], 0);
    clock += 5_000;
    for (let i = 0; i < 1_024; i++) {
      await store.create([{ ...base, id: `n${i}`, time: clock, status: "pending", updatedAt: clock }], 0);
    }
    assert.equal(await store.get("old-done"), undefined);
    assert.ok(await store.get("old-dead"));
    assert.ok(await store.get("n0"));
  });

  test("at most maxFinished finished records are kept, the oldest to finish forgotten first", async () => {
    const store = memoryStore({ maxFinished: 3 });
    const base = { name: "a", body: null, delay: 0, due: 0, attempt: 1, handlers: {}, time: Date.now() };
    const record = (id: string, status: "pending" | "done" | "cancelled" | "dead") => ({
      ...base,
      id,
      correlationId: id,
      status,
      updatedAt: Date.now(),
    });
    await store.create(["p1", "d1", "d2", "d3", "d4"].map((id) => record(id, "pending")), 0);
    await store.put(record("x1", "dead"));
    // Finished in the order d2, d1, d3: d2 is the oldest to finish although d1 was published first.
    for (const id of ["d2", "d1", "d3"]) await store.put(record(id, "done"));
    assert.deepEqual(await store.count!(), { pending: 2, dead: 1, done: 3 });
    await store.put(record("d4", "cancelled"));
    assert.equal(await store.get("d2"), undefined);
    for (const id of ["p1", "d1", "d3", "d4", "x1"]) assert.ok(await store.get(id), id);
    // A finished record written again as finished is not counted twice.
    await store.put(record("d4", "cancelled"));
    assert.deepEqual(await store.count!(), { pending: 1, dead: 1, done: 2, cancelled: 1 });
    // Its id is no longer held: the same id is a new event.
    assert.deepEqual(await store.create([record("d2", "pending")], 0), [true]);
    assert.deepEqual(await store.create([record("d1", "pending")], 0), [false]);
  });

  test("a steady stream of events keeps at most maxFinished finished records, so memory stays bounded", async () => {
    const bus = createBus({ driver: memoryDriver({ maxFinished: 1_000 }) });
    let runs = 0;
    bus.on("tick", () => void runs++);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        ...await bus.publishBatch(Array.from({ length: 1_000 }, (_, j) => ({ name: "tick", body: i * 1_000 + j }))),
      );
    }
    await eventually(() => runs === 5_000);
    await eventually(async () => (await bus.list({ status: "pending" })).items.length === 0);
    assert.equal((await bus.deadLetters.list()).items.length, 0);
    assert.equal(await bus.get(ids[0]), undefined, "the first event's record is forgotten");
    assert.equal((await bus.get(ids.at(-1)!))?.status, "done");
    let kept = 0;
    for (let page = await bus.list({ limit: 500 });; page = await bus.list({ limit: 500, cursor: page.cursor })) {
      kept += page.items.length;
      if (!page.cursor) break;
    }
    assert.equal(kept, 1_000);
    await bus.stop();
  });

  test("maxFinished must be a whole number", () => {
    for (const maxFinished of [-1, 1.5, Number.NaN]) {
      assert.throws(
        () => memoryDriver({ maxFinished }),
        (error: unknown) => (error as { code?: string }).code === "invalid_option",
      );
    }
  });

  test("the dedup window can be set: after it, the same id is a new event", async () => {
    let clock = Date.now();
    const bus = createBus({ dedupWindow: 1_000, now: () => clock, driver: memoryDriver({ now: () => clock }) });
    let runs = 0;
    bus.on("a.b", () => void runs++);
    await bus.publish("a.b", { id: "k" }, 1);
    await eventually(() => runs === 1);
    await bus.publish("a.b", { id: "k" }, 2);
    clock += 1_001;
    await bus.publish("a.b", { id: "k" }, 3);
    await eventually(() => runs === 2);
    assert.deepEqual((await bus.get("k"))?.body, 3);
    await bus.stop();
  });

  // The bus publishes to the memory driver in one step; a driver wrapped with another store
  // publishes through that store, then `send`, where a duplicate is sent again.
  const plain = (): Driver => memoryDriver({ concurrency: 2 });
  const wrapped = (): Driver => {
    const inner = memoryDriver({ concurrency: 2 });
    return { ...inner, store: { ...inner.store } };
  };
  for (const [label, make] of [["", plain], [" (a wrapped driver)", wrapped]] as const) {
    test(`an id published again while its event waits for a free slot runs once${label}`, async () => {
      // Both slots held by slow events: the duplicates arrive while "k" is still queued, and once
      // the slots free up, two queued copies would run side by side.
      const bus = createBus({ driver: make() });
      const seen: unknown[] = [];
      const releases: (() => void)[] = [];
      bus.on("slow", () => new Promise<void>((r) => void releases.push(r)));
      bus.on("a.b", (e) => void seen.push(e.body));
      await bus.publish("slow", {});
      await bus.publish("slow", {});
      await eventually(() => releases.length === 2);
      const ids = await Promise.all([1, 2, 3].map((n) => bus.publish("a.b", { id: "k" }, n)));
      assert.deepEqual(ids, ["k", "k", "k"]);
      assert.equal((await bus.get("k"))?.status, "pending");
      for (const release of releases) release();
      await eventually(() => seen.length === 1);
      await sleep(20);
      assert.deepEqual(seen, [1]);
      assert.equal((await bus.get("k"))?.status, "done");
      await bus.stop();
    });
  }

  test("a driver made from the memory driver with another store publishes through that store", async () => {
    // Tests (and users) wrap a driver's store to watch or break it: the wrapper must see the
    // publish, which the memory driver otherwise keeps to itself in one step.
    const inner = memoryDriver();
    const created: string[] = [];
    const store = {
      ...inner.store,
      create: (records: Parameters<typeof inner.store.create>[0], since: number) => {
        created.push(...records.map((r) => r.id));
        return inner.store.create(records, since);
      },
    };
    const bus = createBus({ driver: { ...inner, store } });
    let runs = 0;
    bus.on("a.b", () => void runs++);
    const id = await bus.publish("a.b", {});
    await eventually(() => runs === 1);
    assert.deepEqual(created, [id]);
    assert.equal((await bus.get(id))?.status, "done");
    await bus.stop();
  });

  test("a cancelled delayed event never runs, and a due one cannot be cancelled", async () => {
    const bus = createBus();
    const seen: string[] = [];
    bus.on("a.b", (e) => void seen.push(e.body as string));
    const later = await bus.publish("a.b", { after: 60 }, "later");
    const now = await bus.publish("a.b", "now");
    assert.equal(await bus.cancel(later), true);
    assert.equal(await bus.cancel(now), false);
    await sleep(120);
    assert.deepEqual(seen, ["now"]);
    assert.equal((await bus.get(later))?.status, "cancelled");
    await bus.stop();
  });

  test("two buses in one process never see each other's events", async () => {
    const a = createBus();
    const b = createBus();
    const seen: string[] = [];
    a.on("x", () => void seen.push("a"));
    b.on("x", () => void seen.push("b"));
    await a.publish("x", {});
    await eventually(() => seen.length === 1);
    await sleep(20);
    assert.deepEqual(seen, ["a"]);
    await Promise.all([a.stop(), b.stop()]);
  });
});
