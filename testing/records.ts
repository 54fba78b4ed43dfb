import { assert } from "./assert.ts";
import { EdgebusError } from "../mod.ts";
import { envelopeOf } from "../driver/mod.ts";
import { eventually, sleep } from "./wait.ts";
import { type ConformanceOptions, type Register, withBus } from "./setup.ts";

/** Dedup, cancel, batches, listing. */
export function recordCases(o: ConformanceOptions, test: Register): void {
  const patience = o.patience ?? 5_000;

  test(
    "the same id published twice in the dedup window is delivered once",
    withBus(o, {}, async (bus) => {
      let runs = 0;
      bus.on("user.joined", () => void runs++);
      const first = await bus.publish("user.joined", { id: "join-2b6m" }, { n: 1 });
      const second = await bus.publish("user.joined", { id: "join-2b6m" }, { n: 2 });
      assert.equal(first, "join-2b6m");
      assert.equal(second, "join-2b6m");
      await eventually(async () => (await bus.get(first))?.status === "done", patience);
      await sleep(100);
      assert.equal(runs, 1);
      assert.deepEqual((await bus.get(first))?.body, { n: 1 });
    }),
  );

  test(
    "dedup holds for delayed events",
    withBus(o, {}, async (bus) => {
      let runs = 0;
      bus.on("trial.ends", () => void runs++);
      await bus.publish("trial.ends", { after: 100, id: "trial-7" }, {});
      await bus.publish("trial.ends", { after: 100, id: "trial-7" }, {});
      await eventually(async () => (await bus.get("trial-7"))?.status === "done", patience);
      await sleep(150);
      assert.equal(runs, 1);
    }),
  );

  test(
    "cancel() removes a delayed event before delivery",
    withBus(o, {}, async (bus) => {
      let runs = 0;
      bus.on("trial.ends", () => void runs++);
      const id = await bus.publish("trial.ends", { after: 300 }, {});
      assert.equal(await bus.cancel(id), true);
      assert.equal((await bus.get(id))?.status, "cancelled");
      await sleep(500);
      assert.equal(runs, 0);
      assert.equal(await bus.cancel(id), false, "cancelling twice");
      assert.equal(await bus.cancel("unknown-id"), false);
      const now = await bus.publish("trial.ends", {});
      await eventually(async () => (await bus.get(now))?.status === "done", patience);
      assert.equal(await bus.cancel(now), false, "a delivered event cannot be cancelled");
    }),
  );

  test(
    "a delayed event shows as pending while its handler runs, and can no longer be cancelled",
    withBus(o, {}, async (bus) => {
      let release: () => void = () => {};
      const running = new Promise<void>((resolve) => (release = resolve));
      let started = false;
      bus.on("slow.later", async () => {
        started = true;
        await running;
      });
      const id = await bus.publish("slow.later", { after: 100 }, {});
      await eventually(() => started, patience);
      assert.equal((await bus.get(id))?.status, "pending");
      assert.equal(await bus.cancel(id), false);
      release();
      await eventually(async () => (await bus.get(id))?.status === "done", patience);
    }),
  );

  test(
    "publishBatch() publishes all or nothing",
    withBus(o, {}, async (bus) => {
      const seen: string[] = [];
      bus.on("batch.*", (event) => void seen.push(event.name));
      await assert.rejects(
        bus.publishBatch([{ name: "batch.a", body: 1 }, { name: "batch..b", body: 2 }, {
          name: "batch.c",
          body: 3,
          id: "c-1",
        }]),
        (error: unknown) => error instanceof EdgebusError && error.code === "invalid_name",
      );
      await sleep(100);
      assert.deepEqual(seen, []);
      assert.equal(await bus.get("c-1"), undefined);
      const ids = await bus.publishBatch([{ name: "batch.a", body: 1 }, { name: "batch.b", body: 2, after: 50 }]);
      assert.equal(ids.length, 2);
      await eventually(() => seen.length === 2, patience);
      assert.deepEqual(seen.sort(), ["batch.a", "batch.b"]);
    }),
  );

  test(
    "list() returns records newest first, filtered by status and name, paged",
    withBus(o, {}, async (bus) => {
      bus.on("shop.>", () => {});
      const ids: string[] = [];
      for (const name of ["shop.order", "shop.refund", "shop.order", "blog.post", "shop.order"]) {
        ids.push(await bus.publish(name, {}));
        await sleep(2);
      }
      const later = await bus.publish("shop.order", { after: "1 hour" }, {});
      await eventually(async () => (await bus.list({ status: "done", limit: 100 })).items.length === 5, patience);
      const orders = await bus.list({ name: "shop.order", status: "done", limit: 2 });
      assert.deepEqual(orders.items.map((r) => r.id), [ids[4], ids[2]]);
      assert.ok(orders.cursor);
      const next = await bus.list({ name: "shop.order", status: "done", limit: 2, cursor: orders.cursor });
      assert.deepEqual(next.items.map((r) => r.id), [ids[0]]);
      assert.equal(next.cursor, undefined);
      const shop = await bus.list({ name: "shop.*" });
      assert.deepEqual(shop.items.map((r) => r.id), [later, ids[4], ids[2], ids[1], ids[0]]);
      const scheduled = await bus.list({ status: "scheduled" });
      assert.deepEqual(scheduled.items.map((r) => r.id), [later]);
      assert.equal(await bus.cancel(later), true);
    }),
  );

  test(
    "handleBatch() runs each message on its own and lists only the failures",
    withBus(o, {}, async (bus) => {
      const runs: Record<string, number> = {};
      bus.on("batch.item", (event) => {
        const key = (event.body as { key: string }).key;
        runs[key] = (runs[key] ?? 0) + 1;
        if (key === "bad") throw new Error("bad item");
      });
      // The envelopes come from records of events published with a delay and then cancelled,
      // as a queue consumer would receive them.
      const messages = [];
      for (const key of ["a", "bad", "c"]) {
        const id = await bus.publish("batch.item", { after: "1 hour" }, { key });
        const envelope = envelopeOf((await bus.get(id))!);
        await bus.cancel(id);
        messages.push({ id: `m-${key}`, body: JSON.stringify({ ...envelope, id: `${id}-copy`, attempt: 1 }) });
      }
      messages.push({ id: "m-junk", body: "not an envelope" });
      const before = Date.now();
      if (o.noBatches) {
        await assert.rejects(
          bus.handleBatch(messages),
          (e: unknown) => e instanceof EdgebusError && e.code === "invalid_option" && /handleBatch/.test(e.message),
        );
        assert.deepEqual(runs, {});
        return;
      }
      const { failures, invalid } = await bus.handleBatch(messages);
      assert.deepEqual(runs, { a: 1, bad: 1, c: 1 });
      assert.deepEqual(failures.map((f) => f.id), ["m-bad"]);
      // The retry is later than the batch's start; its delay is what is left of the wait when the
      // batch returns, which a slow machine may already have used up with a short retry policy.
      assert.ok(failures[0].retryAt > before && failures[0].retryAt >= before + failures[0].delay);
      assert.ok(failures[0].delay >= 0);
      assert.equal(failures[0].envelope.attempt, 2);
      assert.deepEqual(invalid, ["m-junk"]);
    }),
  );

  test(
    "stop() lets in-flight handlers finish and saves their results",
    withBus(o, {}, async (bus) => {
      let finished = false;
      bus.on("long.job", async () => {
        await sleep(200);
        finished = true;
      });
      const id = await bus.publish("long.job", {});
      await eventually(async () => (await bus.get(id))?.status === "pending" && !finished, patience);
      await sleep(50);
      await bus.stop();
      assert.equal(finished, true);
      assert.equal((await bus.get(id))?.status, "done");
      await assert.rejects(
        bus.publish("long.job", {}),
        (e: unknown) => e instanceof EdgebusError && e.code === "stopped",
      );
    }),
  );

  test(
    "stop() aborts handlers after the grace period and records the failure",
    withBus(o, {}, async (bus) => {
      let aborted = false;
      bus.on("stuck.job", async (_e, ctx) => {
        ctx.setTimeout(60_000);
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
        aborted = true;
      });
      const id = await bus.publish("stuck.job", {});
      await sleep(100);
      const started = Date.now();
      await bus.stop({ gracePeriod: 100 });
      assert.ok(Date.now() - started < 2_000, "stop() waited for a stuck handler");
      assert.equal(aborted, true);
      const record = (await bus.get(id))!;
      assert.equal(record.status, "retrying");
      assert.equal(record.handlers["stuck.job#1"].status, "failed");
    }),
  );
}
