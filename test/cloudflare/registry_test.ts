/**
 * Gradual deployments: two Worker versions share one queue and one set of bindings. Each test
 * makes two buses on one object prefix, as two versions of one Worker are.
 */
import assert from "node:assert/strict";
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { test } from "vitest";
import type { Envelope } from "../../mod.ts";
import { createEnvelope, idGenerator, initialRecord } from "../../driver/mod.ts";
import type { QueueBatch, WorkerEnv } from "../../adapters/cloudflare/mod.ts";
import { sleep } from "../lib/t.ts";
import { arrivals, deliverTo, freshPrefix, settled, type Setup, setup } from "./harness.ts";

const workerEnv = env as unknown as WorkerEnv;
const newId = idGenerator();

/** Stores the record of an event due now, as a publish would, without sending its message. */
async function recorded(version: Setup, name: string, now = Date.now()): Promise<Envelope> {
  const envelope = createEnvelope({ name, body: { user_id: "2b6m" } }, now, newId);
  await version.driver.store.create([initialRecord(envelope, now)], now);
  return envelope;
}

/** Hands one message to a version's `queue()`, as Queues would; answers what was acked and retried. */
async function take(version: Setup, bodies: unknown[]): Promise<{ acked: string[]; retried: string[] }> {
  const batch = createMessageBatch(
    "edgebus-test",
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await version.handlers.queue(batch as QueueBatch, workerEnv, ctx);
  const result = await getQueueResult(batch, ctx);
  return { acked: [...result.explicitAcks], retried: result.retryMessages.map((m: { msgId: string }) => m.msgId) };
}

/** Version A has `user.joined`; version B, deployed gradually beside it, adds `user.deleted`. */
function versions(options: Parameters<typeof setup>[0] = {}, busOptions: Parameters<typeof setup>[1] = {}) {
  const prefix = freshPrefix("versions");
  const a = setup({ prefix, ...options }, busOptions);
  const b = setup({ prefix, ...options }, busOptions);
  const runs = { aJoined: 0, bJoined: 0, bDeleted: 0 };
  a.bus.on("user.joined", () => void runs.aJoined++);
  b.bus.on("user.joined", () => void runs.bJoined++);
  b.bus.on("user.deleted", () => void runs.bDeleted++);
  return { a, b, runs };
}

test("a version without the handler hands the event back to the queue; the version with it runs it once", async () => {
  const { a, b, runs } = versions();
  await take(b, []); // B's first batch announces its handlers.
  const deleted = await recorded(a, "user.deleted");

  assert.deepEqual(await take(a, [deleted]), { acked: ["m0"], retried: [] });
  const handedBack = await a.bus.get(deleted.id);
  assert.equal(handedBack?.status, "pending");
  assert.equal(handedBack?.noHandler, undefined);
  assert.deepEqual(handedBack?.handlers, {});
  assert.ok(handedBack!.due > Date.now() + 3_000, "offered again about 5 s later");

  // The message A sent again arrives; this time version B takes it.
  deliverTo(deleted.id, b.driver);
  const done = await settled(b.bus, deleted.id, "done", 15_000);
  assert.equal(runs.bDeleted, 1);
  assert.equal(done.handlers["user.deleted#1"]?.status, "done");
  assert.equal(done.handlers["user.deleted#1"]?.attempts, 1);
  assert.equal(done.noHandler, undefined);
  assert.deepEqual(arrivals.get(deleted.id), ["edgebus-test"], "A sent exactly one new message");

  // A late copy reaching A now is acknowledged without running or sending anything.
  assert.deepEqual(await take(a, [deleted]), { acked: ["m0"], retried: [] });
  await sleep(200);
  assert.equal(runs.bDeleted, 1);
  assert.equal((await a.bus.get(deleted.id))?.status, "done");
});

test("a version that has only served requests so far is waited for too", async () => {
  const { a, b } = versions();
  const ctx = createExecutionContext();
  await b.handlers.fetch(new Request("http://edgebus.test/"), workerEnv, ctx);
  await waitOnExecutionContext(ctx);
  const deleted = await recorded(a, "user.deleted");
  deliverTo(deleted.id, (batch) => Promise.resolve(batch.messages.forEach((m) => m.ack())));
  await take(a, [deleted]);
  assert.equal((await a.bus.get(deleted.id))?.status, "pending");
});

test("an event no version handles is still settled as having no handler", async () => {
  const { a, b, runs } = versions();
  await take(b, []);
  const renamed = await recorded(a, "user.renamed");
  assert.deepEqual(await take(a, [renamed]), { acked: ["m0"], retried: [] });
  const record = await a.bus.get(renamed.id);
  assert.equal(record?.status, "done");
  assert.equal(record?.noHandler, true);
  // And an event both versions handle runs where it lands, without waiting for the other.
  const joined = await recorded(a, "user.joined");
  await take(a, [joined]);
  assert.equal((await a.bus.get(joined.id))?.status, "done");
  assert.deepEqual(runs, { aJoined: 1, bJoined: 0, bDeleted: 0 });
});

test("a handler not announced for longer than handlerTtl is no longer waited for", async () => {
  let clock = Date.now();
  const now = () => clock;
  const { a, b } = versions({ now, handlerTtl: 3_600_000 }, { now });
  await take(b, []);
  const first = await recorded(a, "user.deleted", clock);
  await take(a, [first]);
  assert.equal((await a.bus.get(first.id))?.status, "pending", "B's handler is known");
  deliverTo(first.id, (batch) => Promise.resolve(batch.messages.forEach((m) => m.ack())));

  clock += 3_600_000 + 1; // B stopped announcing an hour ago (the last isolate of B is gone).
  const second = await recorded(a, "user.deleted", clock);
  await take(a, [second]);
  const settledAlone = await a.bus.get(second.id);
  assert.equal(settledAlone?.status, "done");
  assert.equal(settledAlone?.noHandler, true);

  // B takes a batch again: its announcement is older than a minute, so it is refreshed.
  await take(b, []);
  await sleep(10);
  clock += 30_001; // past A's cached copy of the known handlers
  const third = await recorded(a, "user.deleted", clock);
  deliverTo(third.id, (batch) => Promise.resolve(batch.messages.forEach((m) => m.ack())));
  await take(a, [third]);
  assert.equal((await a.bus.get(third.id))?.status, "pending", "B's handler is known again");
});
