import assert from "node:assert/strict";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { test } from "vitest";
import { type Bus, createBus, type Driver, EdgebusError, type Envelope } from "../../mod.ts";
import { createEnvelope, idGenerator, initialRecord } from "../../driver/mod.ts";
import { type DurableObjectNamespaceLike, worker, type WorkerEnv } from "../../adapters/cloudflare/mod.ts";
import { eventually, sleep } from "../lib/t.ts";
import { moduleBus } from "./do_bus.ts";
import { arrivals, settled, setup } from "./harness.ts";

const workerEnv = env as unknown as WorkerEnv;
const newId = idGenerator();

/** Stores the records of envelopes due now, as a publish would, and returns them. */
async function stored(driver: ReturnType<typeof setup>["driver"], names: string[]): Promise<Envelope[]> {
  const now = Date.now();
  const envelopes = names.map((name) => createEnvelope({ name, body: { name } }, now, newId));
  await driver.store.create(envelopes.map((e) => initialRecord(e, now)), now);
  return envelopes;
}

function batchOf(queue: string, bodies: unknown[]) {
  return createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
  );
}

test("queue() acks message by message: a failure becomes a new message and its neighbours do not run again", async () => {
  const { driver, bus, handlers } = setup();
  const runs = { ok: 0, flaky: 0 };
  bus.on("order.ok", () => void runs.ok++);
  bus.on("order.flaky", () => {
    if (++runs.flaky === 1) throw new Error("payment provider down");
  });
  await handlers.fetch(new Request("http://edgebus.test/"), workerEnv, createExecutionContext());
  const [ok, flaky] = await stored(driver, ["order.ok", "order.flaky"]);
  const batch = batchOf("edgebus-test", [ok, flaky, { not: "an event" }]);
  const ctx = createExecutionContext();
  await handlers.queue(batch, workerEnv, ctx);
  const result = await getQueueResult(batch, ctx);
  assert.deepEqual([...result.explicitAcks].sort(), ["m0", "m1", "m2"]);
  assert.deepEqual(result.retryMessages, []);
  assert.equal((await bus.get(ok.id))?.status, "done");
  const failed = await bus.get(flaky.id);
  assert.equal(failed?.status, "retrying");
  assert.equal(failed?.handlers["order.flaky#1"].status, "failed");
  // The re-sent message runs only the failed event's handler, once more.
  const done = await settled(bus, flaky.id, "done");
  assert.equal(done.handlers["order.flaky#1"].attempts, 2);
  assert.equal(done.attempt, 2);
  assert.deepEqual(runs, { ok: 1, flaky: 2 });
});

test("queue() leaves a message it cannot process to Queues' retry, without acknowledging it", async () => {
  const { driver, handlers } = setup();
  const [event] = await stored(driver, ["order.placed"]);
  const unreachable = {
    idFromName: (name: string) => name,
    get: () => ({ fetch: () => Promise.reject(new Error("the store is unreachable")) }),
  };
  const batch = batchOf("edgebus-test", [{ ...event, body: null, edgebusStored: true }]);
  const ctx = createExecutionContext();
  await handlers.queue(batch, { ...workerEnv, EDGEBUS_STORE: unreachable }, ctx);
  const result = await getQueueResult(batch, ctx);
  assert.deepEqual(result.explicitAcks, []);
  assert.deepEqual(result.retryMessages.map((m: { msgId: string }) => m.msgId), ["m0"]);
});

test("a missing binding fails the first request with the binding's name and the wrangler.toml lines", async () => {
  const { handlers } = setup({ bindings: { queue: "EVENTS_QUEUE" } });
  const response = await handlers.fetch(new Request("http://edgebus.test/"), workerEnv, createExecutionContext());
  assert.equal(response.status, 500);
  const { error } = await response.json() as { error: { code: string; message: string } };
  assert.equal(error.code, "unavailable");
  assert.match(error.message, /"EVENTS_QUEUE"/);
  assert.match(error.message, /\[\[queues\.producers\]\]\nbinding = "EVENTS_QUEUE"/);

  const objects = setup({ bindings: { scheduler: "DELAYS" } }).handlers;
  const answer = await objects.fetch(new Request("http://edgebus.test/"), workerEnv, createExecutionContext());
  const message = (await answer.json() as { error: { message: string } }).error.message;
  assert.match(message, /"DELAYS"/);
  assert.match(message, /class_name = "EdgebusScheduler"/);
  assert.match(message, /new_sqlite_classes = \["EdgebusScheduler"\]/);
});

test("worker() refuses a bus whose driver is not the Cloudflare driver", () => {
  assert.throws(
    () => worker(createBus()),
    (error: unknown) =>
      error instanceof EdgebusError && error.code === "invalid_option" && /cloudflareDriver/.test(error.message),
  );
});

test("routes send events to queues by name pattern, each consumed with its own settings", async () => {
  const { bus } = setup({ routes: [{ pattern: "billing.>", queue: "BILLING_QUEUE" }] });
  bus.on("billing.>", () => {});
  bus.on("user.joined", () => {});
  const invoice = await bus.publish("billing.invoice.paid", { amount: 12 });
  const user = await bus.publish("user.joined", { user_id: "2b6m" });
  await settled(bus, invoice, "done");
  await settled(bus, user, "done");
  assert.deepEqual(arrivals.get(invoice), ["edgebus-billing-test"]);
  assert.deepEqual(arrivals.get(user), ["edgebus-test"]);
});

test("bus.publish works inside a user's Durable Object without env being passed", async () => {
  const seen: unknown[] = [];
  moduleBus.on("room.message", (event) => void seen.push(event.body));
  const namespace = env.PUBLISHER as DurableObjectNamespaceLike;
  const stub = namespace.get(namespace.idFromName("room-1") as never);
  const response = await stub.fetch("http://edgebus.test/", {
    method: "POST",
    body: JSON.stringify({ name: "room.message", body: { text: "hi" } }),
  });
  const { id } = await response.json() as { id: string };
  await settled(moduleBus, id, "done");
  assert.deepEqual(seen, [{ text: "hi" }]);
});

test("an idempotency key holds across Worker instances: two drivers, one delivery", async () => {
  const first = setup({ prefix: "shared-instances" });
  const second = setup({ prefix: "shared-instances" });
  let runs = 0;
  first.bus.on("signup.confirmed", () => void runs++);
  second.bus.on("signup.confirmed", () => void runs++);
  const key = `confirm-${Date.now()}`;
  const ids = await Promise.all([
    first.bus.publish("signup.confirmed", { id: key }, { from: "first" }),
    second.bus.publish("signup.confirmed", { id: key }, { from: "second" }),
  ]);
  assert.deepEqual(ids, [key, key]);
  await settled(first.bus, key, "done");
  await sleep(300);
  assert.equal(runs, 1);
  assert.equal((await eventually(() => second.bus.get(key)))?.status, "done");
});

test("worker(bus, { fetch }) finds the driver on bus.driver when the bus exposes it", async () => {
  const { driver, bus } = setup();
  const exposed: Bus & { readonly driver: Driver } = { ...bus, driver };
  const handlers = worker(exposed, { fetch: () => new Response("mine", { status: 418 }) });
  const response = await handlers.fetch(new Request("http://edgebus.test/"), workerEnv, createExecutionContext());
  assert.equal(response.status, 418);
  assert.equal(await response.text(), "mine");
});
