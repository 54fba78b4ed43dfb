import assert from "node:assert/strict";
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { test } from "vitest";
import type { Event } from "../../mod.ts";
import type {
  DurableObjectNamespaceLike,
  DurableObjectStateLike,
  DurableObjectStubLike,
} from "../../adapters/cloudflare/mod.ts";
import { objectName, shardOf } from "../../adapters/cloudflare/shard.ts";
import { sleep } from "../lib/t.ts";
import { settled, setup } from "./harness.ts";

const schedulers = env.EDGEBUS_SCHEDULER as DurableObjectNamespaceLike;

function schedulerOf(prefix: string, id: string, shards = 4): DurableObjectStubLike {
  return schedulers.get(schedulers.idFromName(objectName(prefix, "scheduler", shardOf(id, shards))) as never);
}

function collect(): { seen: { event: Event; at: number }[]; handler: (event: Event) => void } {
  const seen: { event: Event; at: number }[] = [];
  return { seen, handler: (event) => void seen.push({ event, at: Date.now() }) };
}

test("a delay longer than the Queues limit waits in the scheduler and arrives on time, not early", async () => {
  const { driver, bus } = setup({ maxQueueDelay: 1 });
  const { seen, handler } = collect();
  bus.on("trial.ends", handler);
  const start = Date.now();
  const id = await bus.publish("trial.ends", { after: 2_200 }, { plan: "pro" });
  assert.equal(await driver.scheduled(), 1);
  assert.equal((await bus.get(id))?.status, "scheduled");
  await settled(bus, id, "done");
  assert.ok(seen[0].at - start >= 2_200, `arrived after ${seen[0].at - start} ms, asked for 2200`);
  assert.deepEqual(seen[0].event.body, { plan: "pro" });
  assert.equal(await driver.scheduled(), 0, "the row is deleted once sent");
});

test("an event a year out is held in SQLite with the alarm armed at its due time", async () => {
  const prefix = `year-${Date.now()}`;
  const { driver, bus } = setup({ prefix });
  const id = await bus.publish("subscription.renews", { after: "364 days" }, { plan: "yearly" });
  const record = await bus.get(id);
  assert.equal(record?.status, "scheduled");
  const stub = schedulerOf(prefix, id);
  const [row, alarm] = await runInDurableObject(
    stub as never,
    async (_instance: unknown, state: DurableObjectStateLike) => {
      const rows = state.storage.sql.exec("SELECT id, due FROM scheduled").toArray();
      return [rows[0], await state.storage.getAlarm()] as const;
    },
  );
  assert.deepEqual(row, { id, due: record!.due });
  assert.equal(alarm, record!.due);
  assert.ok(record!.due - Date.now() > 363 * 86_400_000);
  assert.equal(await bus.cancel(id), true);
  assert.equal(await driver.scheduled(), 0);
  assert.equal(
    await runInDurableObject(
      stub as never,
      (_instance: unknown, state: DurableObjectStateLike) => state.storage.getAlarm(),
    ),
    null,
  );
});

test("the alarm fires after the scheduler object was evicted", async () => {
  const { bus } = setup({ maxQueueDelay: 0 });
  const { seen, handler } = collect();
  bus.on("report.ready", handler);
  const start = Date.now();
  const id = await bus.publish("report.ready", { after: 800 }, {});
  await abortAllDurableObjects();
  await settled(bus, id, "done");
  assert.ok(seen[0].at - start >= 800);
});

test("rows that fell due while their alarm was lost go out when the object wakes", async () => {
  const prefix = `lost-${Date.now()}`;
  const { driver, bus } = setup({ prefix, maxQueueDelay: 0 });
  const { seen, handler } = collect();
  bus.on("report.ready", handler);
  const id = await bus.publish("report.ready", { after: 200 }, {});
  const stub = schedulerOf(prefix, id);
  await runInDurableObject(
    stub as never,
    (_instance: unknown, state: DurableObjectStateLike) => state.storage.deleteAlarm(),
  );
  await abortAllDurableObjects();
  await sleep(600);
  assert.equal(seen.length, 0, "nothing can send it without an alarm");
  // Any call wakes the object, which re-arms the alarm at the overdue row.
  assert.equal(await driver.scheduled(), 1, "the overdue row is still there");
  await settled(bus, id, "done");
  assert.equal(await driver.scheduled(), 0);
  assert.equal(seen.length, 1);
});

test("a cancelled delayed event is removed from the scheduler and never runs", async () => {
  const { driver, bus } = setup({ maxQueueDelay: 0 });
  let runs = 0;
  bus.on("reminder.send", () => void runs++);
  const id = await bus.publish("reminder.send", { after: 700 }, {});
  assert.equal(await driver.scheduled(), 1);
  assert.equal(await bus.cancel(id), true);
  assert.equal(await driver.scheduled(), 0);
  await sleep(1_000);
  assert.equal(runs, 0);
  assert.equal((await bus.get(id))?.status, "cancelled");
});

test("a cancelled event already on a queue with delaySeconds does not run either", async () => {
  const { bus } = setup();
  let runs = 0;
  bus.on("reminder.send", () => void runs++);
  const id = await bus.publish("reminder.send", { after: 500 }, {});
  assert.equal(await bus.cancel(id), true);
  await sleep(1_600);
  assert.equal(runs, 0);
  assert.equal((await bus.get(id))?.status, "cancelled");
});

test("many due rows go out in sendBatch calls within Queues' limits", async () => {
  const { bus } = setup({ maxQueueDelay: 0, schedulerShards: 1 });
  const seen = new Set<string>();
  bus.on("import.row", (event) => void seen.add(event.id));
  const padding = "x".repeat(3_000);
  const ids = await bus.publishBatch(
    Array.from({ length: 150 }, (_, i) => ({ name: "import.row", body: { i, padding }, after: 300 })),
  );
  const end = Date.now() + 15_000;
  while (seen.size < ids.length && Date.now() < end) await sleep(50);
  assert.equal(seen.size, 150);
});
