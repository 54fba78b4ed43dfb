import { assert } from "./assert.ts";
import { eventually, sleep } from "./wait.ts";
import { type ConformanceOptions, type Register, withBus } from "./setup.ts";

/** Causation chains (records by correlation id), listings with cut bodies, counts per status. */
export function chainCases(o: ConformanceOptions, test: Register): void {
  const patience = o.patience ?? 5_000;

  test(
    "list({ correlationId }) finds an event and every event down its causation chain, and nothing else",
    withBus(o, {}, async (bus) => {
      bus.on("order.placed", async (_e, ctx) => {
        await ctx.publish("order.charged", { n: 1 });
        await ctx.publish("order.packed", { n: 2 });
      });
      bus.on("order.charged", async (_e, ctx) => void await ctx.publish("receipt.sent", {}));
      bus.on("order.packed", () => {});
      bus.on("receipt.sent", () => {});
      const root = await bus.publish("order.placed", {});
      const other = await bus.publish("order.placed", {});
      const done = async () => {
        const { items } = await bus.list({ correlationId: root, limit: 10 });
        return items.length === 4 && items.every((r) => r.status === "done") ? items : undefined;
      };
      const items = await eventually(done, patience);
      const byName = Object.fromEntries(items.map((r) => [r.name, r]));
      assert.equal(byName["order.placed"].id, root);
      assert.equal(byName["order.charged"].causationId, root);
      assert.equal(byName["order.packed"].causationId, root);
      assert.equal(byName["receipt.sent"].causationId, byName["order.charged"].id);
      assert.ok(items.every((r) => r.correlationId === root), "every record shares the root's correlation id");
      assert.ok(!items.some((r) => r.id === other || r.correlationId === other), "another chain is left out");
      for (let i = 1; i < items.length; i++) {
        const [a, b] = [items[i - 1], items[i]];
        assert.ok(a.time > b.time || (a.time === b.time && a.id > b.id), "newest first");
      }
      const first = await bus.list({ correlationId: root, limit: 3 });
      assert.equal(first.items.length, 3);
      assert.ok(first.cursor, "a cursor after a full page");
      const rest = await bus.list({ correlationId: root, limit: 3, cursor: first.cursor });
      assert.deepEqual([...first.items, ...rest.items].map((r) => r.id), items.map((r) => r.id));
      assert.equal(rest.cursor, undefined);
      const charged = await bus.list({ correlationId: root, name: "order.charged" });
      assert.deepEqual(charged.items.map((r) => r.id), [byName["order.charged"].id]);
      assert.deepEqual((await bus.list({ correlationId: "no-such-chain" })).items, []);
    }),
  );

  test(
    "a handler's result lists the events it published through ctx.publish",
    withBus(o, {}, async (bus) => {
      bus.on("parent.event", async (_e, ctx) => {
        await ctx.publish("child.event", { id: "child-1" }, {});
        await ctx.publish("child.event", { id: "child-2" }, {});
      });
      const root = await bus.publish("parent.event", {});
      const record = await eventually(async () => {
        const r = await bus.get(root);
        return r?.status === "done" ? r : undefined;
      }, patience);
      assert.deepEqual(record.handlers["parent.event#1"].published, ["child-1", "child-2"]);
    }),
  );

  test(
    "list({ correlationId }) finds events published with that correlation id given explicitly",
    withBus(o, {}, async (bus) => {
      bus.on("step.>", () => {});
      const a = await bus.publish("step.one", { correlationId: "saga-7" }, {});
      await sleep(2);
      const b = await bus.publish("step.two", { correlationId: "saga-7", after: "1 hour" }, {});
      await bus.publish("step.one", {});
      const { items } = await bus.list({ correlationId: "saga-7" });
      assert.deepEqual(items.map((r) => r.id), [b, a]);
      await bus.cancel(b);
    }),
  );

  test(
    "list({ bodyLimit }) cuts long bodies and keeps short ones; get() answers the whole body",
    withBus(o, {}, async (bus) => {
      const big = { text: "x".repeat(5_000) };
      const id = await bus.publish("doc.saved", { after: "1 hour" }, big);
      const small = await bus.publish("doc.saved", { after: "1 hour" }, { n: 1 });
      const cut = await bus.list({ name: "doc.saved", bodyLimit: 100 });
      const [bigRecord, smallRecord] = [cut.items.find((r) => r.id === id)!, cut.items.find((r) => r.id === small)!];
      assert.equal(bigRecord.body, JSON.stringify(big).slice(0, 100));
      assert.equal(bigRecord.bodyCut, JSON.stringify(big).length);
      assert.deepEqual(smallRecord.body, { n: 1 });
      assert.equal(smallRecord.bodyCut, undefined);
      const none = await bus.list({ name: "doc.saved", bodyLimit: 0 });
      assert.ok(none.items.every((r) => r.body === null && r.bodyCut! > 0), "bodyLimit 0 leaves every body out");
      assert.deepEqual((await bus.get(id))?.body, big);
      await bus.cancel(id);
      await bus.cancel(small);
    }),
  );

  test(
    "store.count(), when the store has it, counts records per status",
    withBus(o, {}, async (bus) => {
      const count = bus.driver.store.count;
      if (!count) return;
      bus.on("tally.ok", () => {});
      bus.on("tally.bad", () => {
        throw new Error("no");
      });
      await bus.publish("tally.ok", {});
      await bus.publish("tally.ok", {});
      const dead = await bus.publish("tally.bad", {});
      await bus.publish("tally.later", { after: "1 hour" }, {});
      await eventually(async () => (await bus.get(dead))?.status === "dead", patience);
      await eventually(async () => (await bus.list({ status: "done" })).items.length === 2, patience);
      const counts = await count.call(bus.driver.store);
      const expected: Record<string, number> = {
        done: 2,
        dead: 1,
        scheduled: 1,
        pending: 0,
        retrying: 0,
        cancelled: 0,
      };
      for (const [status, n] of Object.entries(counts)) {
        assert.equal(n, expected[status], `the count of ${status}`);
      }
    }),
  );
}
