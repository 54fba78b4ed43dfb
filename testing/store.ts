import type { EventRecord, EventStatus, RecordStore } from "../mod.ts";
import { DEFAULT_LIST_LIMIT, encodeCursor } from "../driver/mod.ts";
import { assert } from "./assert.ts";
import { type ConformanceOptions, type Register, withStore } from "./setup.ts";

/**
 * A record as a store keeps it, with every optional field left out so that stores that keep
 * JSON give back what they were given.
 */
function record(id: string, name: string, time: number, status: EventStatus = "pending", body = {}): EventRecord {
  return {
    id,
    name,
    body,
    time,
    delay: 0,
    due: time,
    attempt: 0,
    correlationId: id,
    status,
    handlers: {},
    updatedAt: time,
  };
}

/** Every page of a listing, following cursors. */
async function allPages(store: RecordStore, limit: number): Promise<{ ids: string[][]; cursors: number }> {
  const ids: string[][] = [];
  let cursor: string | undefined;
  let cursors = 0;
  do {
    const page = await store.list({ limit, cursor });
    ids.push(page.items.map((r) => r.id));
    if (page.cursor !== undefined) {
      assert.equal(page.cursor, encodeCursor(page.items[page.items.length - 1]), "the shared cursor encoding");
      cursors++;
    }
    cursor = page.cursor;
  } while (cursor !== undefined && ids.length < 100);
  return { ids, cursors };
}

/** The record store on its own: create and dedup, put, get, delete, list order, paging, filters. */
export function storeCases(o: ConformanceOptions, test: Register): void {
  // Recent times: a store may forget finished records older than its retention.
  const base = (): number => Date.now() - 60_000;

  test(
    "store: get() of an unknown id is undefined, delete() of it false, and a new store lists nothing",
    withStore(o, async (store) => {
      assert.equal(await store.get("no-such-id"), undefined);
      assert.equal(await store.delete("no-such-id"), false);
      assert.deepEqual(await store.list({}), { items: [] });
    }),
  );

  test(
    "store: create() inserts records and get() reads each back as it was given",
    withStore(o, async (store) => {
      const t = base();
      const a = record("rec-a", "user.joined", t, "pending", { n: 1, tags: ["x"] });
      const b = record("rec-b", "user.left", t + 1, "scheduled");
      assert.deepEqual(await store.create([a, b], t - 1_000), [true, true]);
      assert.deepEqual(await store.get("rec-a"), a);
      assert.deepEqual(await store.get("rec-b"), b);
    }),
  );

  test(
    "store: create() answers false for an id published at or after dedupSince, and replaces an older one",
    withStore(o, async (store) => {
      const t = base();
      assert.deepEqual(await store.create([record("dup-1", "a.b", t, "pending", { v: 1 })], t - 1_000), [true]);
      const again = record("dup-1", "a.b", t + 10, "pending", { v: 2 });
      const fresh = record("dup-2", "a.b", t + 10);
      assert.deepEqual(await store.create([again, fresh], t), [false, true], "published at dedupSince");
      assert.deepEqual((await store.get("dup-1"))?.body, { v: 1 });
      assert.deepEqual(await store.create([again], t + 1), [true], "published before dedupSince");
      assert.deepEqual((await store.get("dup-1"))?.body, { v: 2 });
    }),
  );

  test(
    "store: create() is atomic per id: of concurrent creates of one id, exactly one wins",
    withStore(o, async (store) => {
      const t = base();
      const racers = Array.from({ length: 8 }, (_, i) => record("race-1", "a.b", t, "pending", { racer: i }));
      const answers = (await Promise.all(racers.map((r) => store.create([r], t - 1_000)))).map(([won]) => won);
      assert.equal(answers.filter(Boolean).length, 1, `answers ${JSON.stringify(answers)}`);
      assert.deepEqual((await store.get("race-1"))?.body, { racer: answers.indexOf(true) });
    }),
  );

  test(
    "store: put() replaces a record and delete() removes it",
    withStore(o, async (store) => {
      const t = base();
      const r = record("put-1", "a.b", t);
      await store.create([r], t - 1_000);
      const done: EventRecord = {
        ...r,
        status: "done",
        attempt: 1,
        handlers: { h: { status: "done", attempts: 1, finishedAt: t + 5 } },
        updatedAt: t + 5,
      };
      await store.put(done);
      assert.deepEqual(await store.get("put-1"), done);
      assert.equal(await store.delete("put-1"), true);
      assert.equal(await store.get("put-1"), undefined);
      assert.equal(await store.delete("put-1"), false, "deleting twice");
    }),
  );

  test(
    "store: list() returns records newest first by publish time, then by the larger id",
    withStore(o, async (store) => {
      const t = base();
      await store.create([
        record("m-2", "a.b", t),
        record("z-0", "a.b", t - 5),
        record("m-3", "a.b", t),
        record("a-9", "a.b", t + 5),
        record("m-1", "a.b", t),
      ], t - 1_000);
      const page = await store.list({});
      assert.deepEqual(page.items.map((r) => r.id), ["a-9", "m-3", "m-2", "m-1", "z-0"]);
      assert.equal(page.cursor, undefined, "one page holds them all");
    }),
  );

  test(
    "store: list() pages with cursors, none after the last page, even when it ends exactly at a record",
    withStore(o, async (store) => {
      const t = base();
      // Ties on time, to show the cursor keeps the id as well.
      const records = Array.from({ length: 6 }, (_, i) => record(`p-${i}`, "a.b", t + Math.floor(i / 2)));
      await store.create(records, t - 1_000);
      const expected = ["p-5", "p-4", "p-3", "p-2", "p-1", "p-0"];
      const byFour = await allPages(store, 4);
      assert.deepEqual(byFour.ids, [expected.slice(0, 4), expected.slice(4)]);
      assert.equal(byFour.cursors, 1);
      const byThree = await allPages(store, 3);
      assert.deepEqual(byThree.ids, [expected.slice(0, 3), expected.slice(3)]);
      assert.equal(byThree.cursors, 1, "the page ending at the last record has no cursor");
      const byOne = await allPages(store, 1);
      assert.deepEqual(byOne.ids.flat(), expected);
    }),
  );

  test(
    "store: list() filters by status and by name or pattern, together with paging",
    withStore(o, async (store) => {
      const t = base();
      await store.create([
        record("f-1", "shop.order", t, "done"),
        record("f-2", "shop.refund", t + 1, "dead"),
        record("f-3", "shop.order.eu", t + 2, "done"),
        record("f-4", "blog.post", t + 3, "done"),
        record("f-5", "shop.order", t + 4, "scheduled"),
        record("f-6", "shop.order", t + 5, "done"),
      ], t - 1_000);
      const ids = async (query: Parameters<RecordStore["list"]>[0]) => (await store.list(query)).items.map((r) => r.id);
      assert.deepEqual(await ids({ status: "done" }), ["f-6", "f-4", "f-3", "f-1"]);
      assert.deepEqual(await ids({ status: "dead" }), ["f-2"]);
      assert.deepEqual(await ids({ name: "shop.order" }), ["f-6", "f-5", "f-1"]);
      assert.deepEqual(await ids({ name: "shop.*" }), ["f-6", "f-5", "f-2", "f-1"]);
      assert.deepEqual(await ids({ name: "shop.>" }), ["f-6", "f-5", "f-3", "f-2", "f-1"]);
      assert.deepEqual(await ids({ name: "shop.order", status: "done" }), ["f-6", "f-1"]);
      assert.deepEqual(await ids({ name: "nobody.*" }), []);
      const first = await store.list({ name: "shop.>", status: "done", limit: 1 });
      assert.deepEqual(first.items.map((r) => r.id), ["f-6"]);
      const rest = await store.list({ name: "shop.>", status: "done", limit: 2, cursor: first.cursor });
      assert.deepEqual(rest.items.map((r) => r.id), ["f-3", "f-1"]);
      assert.equal(rest.cursor, undefined);
    }),
  );

  test(
    `store: list() holds ${DEFAULT_LIST_LIMIT} records without a limit, and from 1 to 1000 with one`,
    withStore(o, async (store) => {
      const t = base();
      const count = DEFAULT_LIST_LIMIT + 10;
      const records = Array.from({ length: count }, (_, i) => record(`l-${String(i).padStart(3, "0")}`, "a.b", t + i));
      await store.create(records, t - 1_000);
      const standard = await store.list({});
      assert.equal(standard.items.length, DEFAULT_LIST_LIMIT);
      assert.ok(standard.cursor, "more records follow");
      const one = await store.list({ limit: 1 });
      assert.deepEqual(one.items.map((r) => r.id), [`l-${String(count - 1).padStart(3, "0")}`]);
      const most = await store.list({ limit: 1000 });
      assert.equal(most.items.length, count);
      assert.equal(most.cursor, undefined);
    }),
  );
}
