/**
 * The Durable Object outbox in workerd: a user's object (outbox_object.ts) writes an order and its
 * event in one `transactionSync`, and its alarm sends the row to the bus's queue.
 */
import assert from "node:assert/strict";
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { test } from "vitest";
import type { DurableObjectNamespaceLike, DurableObjectStateLike } from "../../adapters/cloudflare/mod.ts";
import { eventually, sleep } from "../lib/t.ts";
import { settled, setup } from "./harness.ts";
import { type OutboxObject, outboxTarget, userAlarmRuns } from "./outbox_object.ts";

const namespace = (env as unknown as { OUTBOX_OBJECT: DurableObjectNamespaceLike }).OUTBOX_OBJECT;
let objects = 0;

function fresh() {
  const name = `outbox-${Date.now()}-${objects++}`;
  const { bus } = setup();
  const runs = new Map<string, number>();
  bus.on("order.placed", (event) => {
    runs.set(event.id, (runs.get(event.id) ?? 0) + 1);
  });
  outboxTarget.bus = bus;
  outboxTarget.fail = undefined;
  const inside = <T>(fn: (object: OutboxObject, state: DurableObjectStateLike) => T | Promise<T>): Promise<T> =>
    // A new stub each time: a stub from before abortAllDurableObjects() stays broken.
    runInDurableObject(namespace.get(namespace.idFromName(name) as never) as never, fn as never) as Promise<T>;
  return { bus, runs, inside };
}

test("an event published in transactionSync is sent by the object's alarm, then its row is deleted", async () => {
  const { bus, runs, inside } = fresh();
  const id = await inside((o) => o.placeOrder("1", 5));
  assert.equal(id, "order-1");
  const record = await settled(bus, id, "done");
  assert.deepEqual(record.body, { id: "1", total: 5 });
  assert.equal(runs.get(id), 1);
  await eventually(() => inside((o) => o.outbox.pending() === 0));
  assert.equal(await inside((o) => o.orders()), 1);
});

test("a throw inside the transaction leaves neither the data nor the event", async () => {
  const { bus, runs, inside } = fresh();
  const before = userAlarmRuns.length;
  await assert.rejects(inside((o) => o.placeOrder("2", 5, true)), /refused after its writes/);
  assert.equal(await inside((o) => o.orders()), 0);
  assert.equal(await inside((o) => o.outbox.pending()), 0);
  await sleep(300);
  assert.equal(await bus.get("order-2"), undefined);
  assert.equal(runs.size, 0);
  assert.equal(userAlarmRuns.length, before, "the outbox's empty wake-up is not taken for the user's alarm");
});

test("evicted between commit and send: the alarm retries after the failed send, in a fresh instance", async () => {
  const { bus, runs, inside } = fresh();
  outboxTarget.fail = "before";
  const id = await inside((o) => o.placeOrder("3", 7));
  const row = await eventually(() =>
    inside((_o, state) =>
      state.storage.sql.exec("SELECT attempts, last_error FROM edgebus_outbox").toArray().find((r) =>
        (r.attempts as number) >= 1
      )
    )
  );
  assert.match(String(row.last_error), /unavailable \(on purpose\)/);
  assert.equal(await bus.get(id), undefined);
  await abortAllDurableObjects();
  outboxTarget.fail = undefined;
  await settled(bus, id, "done", 5_000); // the retry is due about 1 s after the failure
  assert.equal(runs.get(id), 1);
  await eventually(() => inside((o) => o.outbox.pending() === 0));
});

test("a send that landed before the row was deleted is sent again and stays one event", async () => {
  const { bus, runs, inside } = fresh();
  outboxTarget.fail = "after";
  const id = await inside((o) => o.placeOrder("4", 9));
  await settled(bus, id, "done");
  assert.equal(await inside((o) => o.outbox.pending()), 1, "the row is still there");
  outboxTarget.fail = undefined;
  await eventually(() => inside((o) => o.outbox.pending() === 0), 5_000);
  await sleep(100);
  assert.equal(runs.get(id), 1);
});

test("the user's alarm set through the outbox: the outbox wakes earlier, then the user's alarm runs on time", async () => {
  const { bus, inside } = fresh();
  const before = userAlarmRuns.length;
  const userAt = Date.now() + 1_500;
  await inside((o) => o.outbox.setAlarm(userAt));
  const id = await inside((o) => o.placeOrder("5", 1));
  await settled(bus, id, "done");
  assert.ok(Date.now() < userAt, "the event went out before the user's alarm time");
  assert.equal(userAlarmRuns.length, before, "the outbox's wake-up did not run the user's work");
  await eventually(async () => (await inside((_o, state) => state.storage.getAlarm())) === userAt);
  await eventually(() => userAlarmRuns.length === before + 1, 4_000);
  assert.ok(userAlarmRuns[before] >= userAt);
  await sleep(200);
  assert.equal(userAlarmRuns.length, before + 1);
  assert.equal(await inside((o) => o.outbox.getAlarm()), null);
});

test("an alarm the user set directly is remembered and set again after the outbox's wake-up", async () => {
  const { bus, inside } = fresh();
  const before = userAlarmRuns.length;
  const userAt = Date.now() + 1_500;
  await inside((_o, state) => state.storage.setAlarm(userAt));
  const id = await inside((o) => o.placeOrder("6", 1));
  await settled(bus, id, "done");
  assert.ok(Date.now() < userAt);
  assert.equal(await inside((o) => o.outbox.getAlarm()), userAt);
  await eventually(() => userAlarmRuns.length === before + 1, 4_000);
  assert.ok(userAlarmRuns[before] >= userAt);
});

test("rows left without an alarm (evicted before it was set) go out when the object next wakes", async () => {
  const { bus, runs, inside } = fresh();
  outboxTarget.fail = "before";
  const id = await inside((o) => o.placeOrder("7", 2));
  await eventually(() =>
    inside((_o, state) =>
      state.storage.sql.exec("SELECT attempts FROM edgebus_outbox")
        .toArray().some((r) => (r.attempts as number) >= 1)
    )
  );
  // As if the object had been evicted between the commit and the alarm being set.
  await inside((_o, state) => state.storage.deleteAlarm());
  await abortAllDurableObjects();
  outboxTarget.fail = undefined;
  await sleep(1_500);
  assert.equal(await bus.get(id), undefined, "nothing sends it while the object sleeps without an alarm");
  await inside((o) => o.orders()); // any call wakes it: the constructor arms the alarm for the waiting row
  await settled(bus, id, "done", 5_000);
  assert.equal(runs.get(id), 1);
});
