import { assert } from "./assert.ts";
import type { Event } from "../mod.ts";
import { eventually, sleep } from "./wait.ts";
import { type ConformanceOptions, type Register, withBus } from "./setup.ts";

/** Immediate and delayed delivery, handler order, wildcards, chains, large bodies. */
export function deliveryCases(o: ConformanceOptions, test: Register): void {
  const patience = o.patience ?? 5_000;

  test(
    "publish() delivers the event with its fields to the handler",
    withBus(o, {}, async (bus) => {
      const seen: Event[] = [];
      bus.on("user.joined", (event) => void seen.push(event));
      const before = Date.now();
      const id = await bus.publish("user.joined", { user_id: "2b6m", at: new Date(0) });
      await eventually(() => seen.length === 1, patience);
      const [event] = seen;
      assert.equal(event.id, id);
      assert.equal(event.name, "user.joined");
      assert.deepEqual(event.body, { user_id: "2b6m", at: "1970-01-01T00:00:00.000Z" });
      assert.ok(event.time >= before && event.time <= Date.now());
      assert.equal(event.delay, 0);
      assert.equal(event.attempt, 1);
      assert.equal(event.correlationId, id);
      assert.equal(event.causationId, undefined);
      const record = await eventually(async () => {
        const r = await bus.get(id);
        return r?.status === "done" ? r : undefined;
      }, patience);
      assert.equal(record.handlers["user.joined#1"].status, "done");
      assert.equal(record.handlers["user.joined#1"].attempts, 1);
    }),
  );

  test(
    "publish() with after delivers no earlier than the due time",
    withBus(o, {}, async (bus) => {
      const seen: { event: Event; at: number }[] = [];
      bus.on("reminder.due", (event) => void seen.push({ event, at: Date.now() }));
      const start = Date.now();
      const id = await bus.publish("reminder.due", { after: 400 }, { n: 1 });
      assert.equal((await bus.get(id))?.status, "scheduled");
      await sleep(150);
      assert.equal(seen.length, 0, "delivered before its time");
      await eventually(() => seen.length === 1, patience);
      assert.ok(seen[0].at - start >= 400, `arrived after ${seen[0].at - start} ms, asked for 400`);
      assert.equal(seen[0].event.delay, 400);
    }),
  );

  test(
    "handlers of one name run in registration order, each recorded",
    withBus(o, {}, async (bus) => {
      const order: string[] = [];
      bus.on("order.placed", { id: "charge" }, async () => {
        await sleep(20);
        order.push("charge");
      });
      bus.on("order.placed", { id: "email" }, () => void order.push("email"));
      bus.on("order.*", { id: "audit" }, () => void order.push("audit"));
      bus.on("order.>", { id: "metrics" }, () => void order.push("metrics"));
      bus.on("user.*", { id: "unrelated" }, () => void order.push("unrelated"));
      const id = await bus.publish("order.placed", { total: 5 });
      const record = await eventually(async () => {
        const r = await bus.get(id);
        return r?.status === "done" ? r : undefined;
      }, patience);
      const expected = ["charge", "email", "audit", "metrics"];
      // Independent handlers run each on its own: every one runs once, in no set order.
      assert.deepEqual(
        o.independentHandlers ? [...order].sort() : order,
        o.independentHandlers ? [...expected].sort() : expected,
      );
      assert.deepEqual(Object.keys(record.handlers).sort(), ["audit", "charge", "email", "metrics"]);
    }),
  );

  test(
    "an event with no handler is acknowledged and recorded as such",
    withBus(o, {}, async (bus) => {
      bus.on("other.thing", () => {});
      const id = await bus.publish("nobody.listens", { x: 1 });
      const record = await eventually(async () => {
        const r = await bus.get(id);
        return r?.status === "done" ? r : undefined;
      }, patience);
      assert.equal(record.noHandler, true);
      assert.deepEqual(record.handlers, {});
    }),
  );

  test(
    "ctx.publish() chains events: causation is the parent, correlation is kept",
    withBus(o, {}, async (bus) => {
      const seen: Event[] = [];
      bus.on("user.joined", async (_event, ctx) => {
        await ctx.publish("email.welcome", { to: "a@example.com" });
      });
      bus.on("email.welcome", async (event, ctx) => {
        seen.push(event);
        await ctx.publish("email.sent", { after: 50 }, { ok: true });
      });
      bus.on("email.sent", (event) => void seen.push(event));
      const root = await bus.publish("user.joined", { correlationId: "req-42" }, { u: 1 });
      await eventually(() => seen.length === 2, patience);
      const [welcome, sent] = seen;
      assert.equal(welcome.causationId, root);
      assert.equal(welcome.correlationId, "req-42");
      assert.equal(sent.causationId, welcome.id);
      assert.equal(sent.correlationId, "req-42");
      assert.equal(sent.delay, 50);
    }),
  );

  test(
    "a body near the 256 KiB limit arrives intact",
    withBus(o, {}, async (bus) => {
      const seen: unknown[] = [];
      bus.on("blob.stored", (event) => void seen.push(event.body));
      const body = { data: "é".repeat(100_000), list: Array.from({ length: 1_000 }, (_, i) => i) };
      await bus.publish("blob.stored", body);
      await eventually(() => seen.length === 1, patience);
      assert.deepEqual(seen[0], body);
    }),
  );
}
