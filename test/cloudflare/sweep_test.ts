/**
 * The store objects' sweep: an event whose message was lost (Queues' delayed messages in
 * `wrangler dev` do not survive a restart) is sent again once it is `sweepAfter` past due.
 * Records are written through the store without their message, as after such a loss.
 */
import assert from "node:assert/strict";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { test } from "vitest";
import { EdgebusError, type EventRecord, type EventStatus } from "../../mod.ts";
import { createEnvelope, idGenerator, initialRecord } from "../../driver/mod.ts";
import type {
  CloudflareDriver,
  DurableObjectNamespaceLike,
  DurableObjectStateLike,
  DurableObjectStubLike,
  QueueBatch,
} from "../../adapters/cloudflare/mod.ts";
import { objectName } from "../../adapters/cloudflare/shard.ts";
import { migrate, SCHEMA_VERSION } from "../../adapters/cloudflare/store_schema.ts";
import { eventually, sleep } from "../lib/t.ts";
import { arrivals, deliverTo, freshPrefix, settled, setup } from "./harness.ts";

const newId = idGenerator();
const stores = env.EDGEBUS_STORE as DurableObjectNamespaceLike;

function storeOf(prefix: string): DurableObjectStubLike {
  return stores.get(stores.idFromName(objectName(prefix, "records", 0)) as never);
}

/** A record published a minute ago, due `dueAgo` ms ago, in `status`, whose message never left. */
async function lost(
  driver: CloudflareDriver,
  name: string,
  status: EventStatus,
  options: { dueAgo?: number; body?: unknown } = {},
): Promise<EventRecord> {
  const { dueAgo = 30_000, body = { invoice: "in_42" } } = options;
  const published = Date.now() - 60_000;
  const envelope = createEnvelope({ name, body, after: 60_000 - dueAgo }, published, newId);
  const record = { ...initialRecord(envelope, published), status };
  await driver.store.create([record], published);
  return record;
}

/** A consumer of the test's own that only counts and acknowledges. */
function counter(): { count: () => number; consume: (batch: QueueBatch) => Promise<void> } {
  let seen = 0;
  return {
    count: () => seen,
    consume: (batch) => Promise.resolve(batch.messages.forEach((m) => (seen++, m.ack()))),
  };
}

test("the sweep re-sends a scheduled event whose message never reached the queue, and it runs", async () => {
  const prefix = freshPrefix("sweep");
  const { driver, bus } = setup({
    prefix,
    storeShards: 1,
    sweepAfter: 5_000,
    routes: [{ pattern: "billing.>", queue: "BILLING_QUEUE" }],
  });
  const seen: { attempt: number; body: unknown }[] = [];
  bus.on("billing.invoice.overdue", (event) => void seen.push({ attempt: event.attempt, body: event.body }));
  const record = await lost(driver, "billing.invoice.overdue", "scheduled");
  deliverTo(record.id, driver);
  await runDurableObjectAlarm(storeOf(prefix) as never); // it may have fired on its own already
  const done = await settled(bus, record.id, "done");
  assert.deepEqual(seen, [{ attempt: 1, body: { invoice: "in_42" } }]);
  assert.equal(done.handlers["billing.invoice.overdue#1"]?.status, "done");
  assert.deepEqual(arrivals.get(record.id), ["edgebus-billing-test"], "sent once, on the route's queue");
});

test("the sweep re-sends an event over the queue's size limit through a stored body", async () => {
  const prefix = freshPrefix("sweep-large");
  const { driver, bus } = setup({ prefix, storeShards: 1, sweepAfter: 5_000 });
  const body = { data: "é".repeat(90_000) };
  const seen: unknown[] = [];
  bus.on("export.ready", (event) => void seen.push(event.body));
  const record = await lost(driver, "export.ready", "retrying", { body });
  deliverTo(record.id, driver);
  await runDurableObjectAlarm(storeOf(prefix) as never);
  await settled(bus, record.id, "done");
  assert.deepEqual(seen, [body]);
  await eventually(async () => (await driver.store.getBody(record.id)) === undefined);
});

test("a record in a final status is never re-sent", async () => {
  const prefix = freshPrefix("sweep-final");
  const { driver } = setup({ prefix, storeShards: 1, sweepAfter: 1_000 });
  const sent = counter();
  const finals = await Promise.all(
    (["done", "dead", "cancelled"] as const).map((status) => lost(driver, "report.ready", status)),
  );
  for (const record of finals) deliverTo(record.id, sent.consume);
  assert.equal(await runDurableObjectAlarm(storeOf(prefix) as never), false, "no open record, no alarm");
  // Beside an open record, which the sweep does send, the final ones still stay.
  const open = await lost(driver, "report.ready", "pending");
  deliverTo(open.id, sent.consume);
  await runDurableObjectAlarm(storeOf(prefix) as never);
  await eventually(() => sent.count() === 1);
  await sleep(300);
  assert.equal(sent.count(), 1);
  for (const record of finals) assert.equal(arrivals.get(record.id), undefined);
  assert.deepEqual(arrivals.get(open.id), ["edgebus-test"]);
});

test("a re-sent record is not re-sent by the next sweep, only after another grace period", async () => {
  const prefix = freshPrefix("sweep-again");
  const { driver, bus } = setup({ prefix, storeShards: 1, sweepAfter: 1_000 });
  const sent = counter();
  const record = await lost(driver, "report.ready", "scheduled");
  deliverTo(record.id, sent.consume); // arrives, but no consumer settles it
  const stub = storeOf(prefix) as never;
  await runDurableObjectAlarm(stub);
  await eventually(() => sent.count() === 1);
  const touched = await eventually(async () => {
    const current = await bus.get(record.id);
    return current && current.updatedAt > record.updatedAt ? current : undefined;
  });
  assert.equal(touched.status, "scheduled", "the sweep changes nothing but updatedAt");
  assert.equal(await runDurableObjectAlarm(stub), true, "the sweep is armed again");
  await sleep(300);
  assert.equal(sent.count(), 1, "not re-sent within the grace period");
  await eventually(() => sent.count() === 2, 5_000);
  assert.ok(Date.now() - touched.updatedAt >= 1_000);
});

test("a store object made by an older release is migrated in place, and the older release still writes to it", async () => {
  const stub = storeOf(freshPrefix("migrate"));
  const result = await runInDurableObject(stub as never, (_instance: unknown, state: DurableObjectStateLike) => {
    const { sql } = state.storage;
    for (const table of ["records", "bodies", "handlers", "meta"]) sql.exec(`DROP TABLE IF EXISTS ${table}`);
    // The tables as release 0.1.0 made them, with one record.
    sql.exec(`CREATE TABLE records (
      id TEXT PRIMARY KEY, time INTEGER NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
      updated INTEGER NOT NULL, data TEXT NOT NULL)`);
    sql.exec("CREATE TABLE bodies (id TEXT PRIMARY KEY, envelope TEXT NOT NULL, created INTEGER NOT NULL)");
    sql.exec(
      "INSERT INTO records VALUES ('e1', 1, 'report.ready', 'scheduled', 1, ?)",
      JSON.stringify({ id: "e1", due: 1234 }),
    );
    const before = migrate(state.storage);
    const again = migrate(state.storage);
    // The older release, still running beside this one, inserts without the due column.
    sql.exec(
      "INSERT INTO records (id, time, name, status, updated, data) VALUES ('e2', 2, 'report.ready', 'pending', 2, ?)",
      JSON.stringify({ id: "e2", due: 5678 }),
    );
    return {
      before,
      again,
      version: sql.exec("SELECT value FROM meta WHERE key = 'version'").toArray()[0].value,
      due: sql.exec("SELECT id, due FROM records ORDER BY id").toArray(),
      handlers: sql.exec("SELECT COUNT(*) AS n FROM handlers").toArray()[0].n,
    };
  });
  assert.deepEqual(result, {
    before: 0,
    again: SCHEMA_VERSION,
    version: String(SCHEMA_VERSION),
    due: [{ id: "e1", due: 1234 }, { id: "e2", due: 5678 }],
    handlers: 0,
  });
});

test("cloudflareDriver() refuses a sweepAfter under a second and a handlerTtl under two minutes", () => {
  const refused = (options: Parameters<typeof setup>[0], pattern: RegExp) =>
    assert.throws(
      () => setup(options),
      (error: unknown) =>
        error instanceof EdgebusError && error.code === "invalid_option" && pattern.test(error.message),
    );
  refused({ sweepAfter: 500 }, /^Invalid sweepAfter 500: expected a whole number from 1000/);
  refused({ handlerTtl: 60_000 }, /^Invalid handlerTtl 60000: expected a whole number from 120000/);
});
