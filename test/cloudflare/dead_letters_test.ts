import assert from "node:assert/strict";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { test } from "vitest";
import { CONSUMER_HANDLER, type WorkerEnv } from "../../adapters/cloudflare/mod.ts";
import { settled, setup } from "./harness.ts";

test("a message that crashes the consumer ends in Cloudflare's dead-letter queue, then in bus.deadLetters", async () => {
  // The test Worker's consumer throws on every batch of CRASH_QUEUE (max_retries = 1).
  const { bus } = setup({ routes: [{ pattern: "crash.>", queue: "CRASH_QUEUE" }] });
  bus.on("crash.boom", () => {});
  const id = await bus.publish("crash.boom", { n: 1 });
  const record = await settled(bus, id, "dead", 15_000);
  assert.equal(record.handlers[CONSUMER_HANDLER].status, "dead");
  assert.match(record.handlers[CONSUMER_HANDLER].error!.message, /dead-letter queue "edgebus-dlq"/);
  const page = await bus.deadLetters.list();
  assert.deepEqual(page.items.map((r) => r.id), [id]);
});

test("dead-letter messages are recorded as dead and acknowledged; failed handlers are marked dead", async () => {
  const { bus, handlers } = setup({}, { retry: { maxAttempts: 10, minDelay: 60_000, maxDelay: 60_000, jitter: 0 } });
  bus.on("pay.charge", { id: "charge" }, () => {
    throw new Error("card declined");
  });
  const id = await bus.publish("pay.charge", { amount: 5 });
  const retrying = await settled(bus, id, "retrying");
  const batch = createMessageBatch("edgebus-dlq", [{
    id: "d0",
    timestamp: new Date(),
    attempts: 1,
    body: { ...retrying },
  }]);
  const ctx = createExecutionContext();
  await handlers.queue(batch, env as unknown as WorkerEnv, ctx);
  const result = await getQueueResult(batch, ctx);
  assert.deepEqual(result.explicitAcks, ["d0"]);
  const dead = await bus.get(id);
  assert.equal(dead?.status, "dead");
  assert.equal(dead?.handlers.charge.status, "dead");
  assert.deepEqual(dead?.handlers.charge.error, { name: "Error", message: "card declined" });
  assert.deepEqual((await bus.deadLetters.list()).items.map((r) => r.id), [id]);
});
