/**
 * Queues does not drop messages by id, and publishing an id whose record is still undelivered
 * sends it again, so two copies of one event can reach the consumer together: only one may run
 * the handlers.
 */
import assert from "node:assert/strict";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { test } from "vitest";
import { RetryAfterError } from "../../mod.ts";
import { createEnvelope, idGenerator, initialRecord } from "../../driver/mod.ts";
import type { WorkerEnv } from "../../adapters/cloudflare/mod.ts";
import { sleep } from "../lib/t.ts";
import { settled, setup } from "./harness.ts";

const workerEnv = env as unknown as WorkerEnv;
const newId = idGenerator();

test("two copies of one event in a batch run its handler once, and both are acknowledged", async () => {
  const { driver, bus, handlers } = setup();
  let runs = 0;
  bus.on("order.placed", () => void runs++);
  const now = Date.now();
  const envelope = createEnvelope({ name: "order.placed", body: { order: 7 } }, now, newId);
  await driver.store.create([initialRecord(envelope, now)], now);
  const batch = createMessageBatch(
    "edgebus-test",
    [envelope, envelope, { ...envelope, attempt: 2 }].map((body, i) => ({
      id: `m${i}`,
      timestamp: new Date(),
      attempts: 1,
      body,
    })),
  );
  const ctx = createExecutionContext();
  await handlers.queue(batch, workerEnv, ctx);
  const result = await getQueueResult(batch, ctx);
  assert.deepEqual([...result.explicitAcks].sort(), ["m0", "m1", "m2"]);
  assert.equal(runs, 1);
  const record = await bus.get(envelope.id);
  assert.equal(record?.status, "done");
  assert.equal(record?.attempt, 2, "the copy with the highest attempt ran");
});

test("publishing one id twice in a row runs its handler once, also when both copies arrive together", async () => {
  const { bus } = setup();
  const runs = new Map<string, number>();
  bus.on("user.joined", (event) => void runs.set(event.id, (runs.get(event.id) ?? 0) + 1));
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    const id = `join-${Date.now()}-${i}`;
    await bus.publish("user.joined", { id }, { n: 1 });
    await bus.publish("user.joined", { id }, { n: 2 });
    ids.push(id);
  }
  for (const id of ids) await settled(bus, id, "done");
  await sleep(300); // room for a late copy to show
  assert.deepEqual(ids.filter((id) => runs.get(id) !== 1).map((id) => [id, runs.get(id)]), []);
}, 30_000);

test("a next attempt sent with no delay runs, though it may arrive while its batch is still settling", async () => {
  const { bus } = setup();
  const ids: string[] = [];
  const runs = new Map<string, number>();
  bus.on("job.flaky", (event) => {
    const n = (runs.get(event.id) ?? 0) + 1;
    runs.set(event.id, n);
    if (n === 1) throw new RetryAfterError(0, "again at once");
  });
  for (let i = 0; i < 10; i++) ids.push(await bus.publish("job.flaky", { i }));
  for (const id of ids) await settled(bus, id, "done");
  assert.deepEqual(ids.map((id) => runs.get(id)), ids.map(() => 2));
});
