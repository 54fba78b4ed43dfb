import assert from "node:assert/strict";
import { test } from "vitest";
import { createEnvelope, idGenerator } from "../../driver/mod.ts";
import { planDelivery } from "../../adapters/cloudflare/plan.ts";

const now = 1_800_000_000_000;
const newId = idGenerator(() => now);
const route = (name: string): string => name.startsWith("billing.") ? "BILLING_QUEUE" : "EDGEBUS_QUEUE";
const envelope = (name: string, after?: number, body: unknown = {}) =>
  createEnvelope({ name, after, body }, now, newId);

test("planDelivery() rounds Queues delays up to whole seconds, so nothing arrives early", () => {
  const events = [
    envelope("user.joined"),
    envelope("user.joined", 1),
    envelope("user.joined", 1_500),
    envelope("user.joined", 43_200_000),
  ];
  const plan = planDelivery(events, now, route, 43_200);
  assert.deepEqual(plan.queued.get("EDGEBUS_QUEUE")!.map((m) => m.delaySeconds), [0, 1, 2, 43_200]);
  assert.deepEqual(plan.delayed, []);
});

test("planDelivery() hands delays beyond maxQueueDelay to the scheduler with their exact due time", () => {
  const late = envelope("user.follow-up", 43_200_001);
  const plan = planDelivery([late, envelope("user.joined", 3_000)], now, route, 43_200);
  assert.deepEqual(plan.delayed.map((r) => [r.id, r.due, r.queue]), [[late.id, now + 43_200_001, "EDGEBUS_QUEUE"]]);
  assert.equal(plan.queued.get("EDGEBUS_QUEUE")!.length, 1);
  const all = planDelivery([envelope("user.joined", 1)], now, route, 0);
  assert.equal(all.delayed.length, 1, "maxQueueDelay 0 sends every delayed event to the scheduler");
});

test("planDelivery() routes by name and stores envelopes too large for a message", () => {
  const big = envelope("billing.export", undefined, { data: "x".repeat(200_000) });
  const plan = planDelivery([big, envelope("user.joined")], now, route, 43_200);
  assert.deepEqual(plan.stored.map(([id]) => id), [big.id]);
  assert.deepEqual(JSON.parse(plan.stored[0][1]), JSON.parse(JSON.stringify(big)));
  const [message] = plan.queued.get("BILLING_QUEUE")!;
  assert.deepEqual(
    JSON.parse(JSON.stringify(message.body)),
    JSON.parse(JSON.stringify({ ...big, body: null, edgebusStored: true })),
  );
  assert.ok(message.bytes < 1_000);
  assert.equal(plan.queued.get("EDGEBUS_QUEUE")!.length, 1);
});
