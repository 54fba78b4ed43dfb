/**
 * The Postgres outbox on PGlite (Postgres compiled to WASM, in process): the embedded setup of
 * the quick start, with its LISTEN/NOTIFY inside the instance.
 */
import assert from "node:assert/strict";
import { PGlite } from "@electric-sql/pglite";
import { createBus } from "../../mod.ts";
import { outboxSchema, postgresOutbox } from "../../adapters/postgres/mod.ts";
import { afterAll, eventually, sleep, test } from "../lib/t.ts";

const db = await PGlite.create();
afterAll(() => db.close());

test("PGlite: publish in db.transaction, woken by NOTIFY at commit, relayed once", async () => {
  const outbox = postgresOutbox({ sql: db, table: "app.outbox" });
  await db.exec("CREATE SCHEMA app; CREATE TABLE app.users (id text PRIMARY KEY)");
  await outbox.migrate();
  await outbox.migrate(); // idempotent
  const bus = createBus();
  const runs: string[] = [];
  bus.on("user.joined", (event) => {
    runs.push(event.id);
  });
  // Polling once a minute: only the NOTIFY can wake the relay within the test.
  const relay = outbox.relay(bus, { pollInterval: 60_000 });
  await sleep(100);
  const id = await db.transaction(async (tx) => {
    await tx.query("INSERT INTO app.users VALUES ($1)", ["u1"]);
    return await outbox.publish(tx, "user.joined", { user_id: "u1" });
  });
  await eventually(() => runs.length === 1, 3_000);
  assert.deepEqual(runs, [id]);
  await eventually(async () => (await db.query("SELECT * FROM app.outbox")).rows.length === 0);
  await relay.stop();
  await bus.stop();
});

test("PGlite: a rolled-back transaction writes no row", async () => {
  const outbox = postgresOutbox({ sql: db, table: "rolled" });
  await outbox.migrate();
  await assert.rejects(
    db.transaction(async (tx) => {
      await outbox.publishBatch(tx, [{ name: "a.b", body: 1 }, { name: "a.c", body: 2 }]);
      throw new Error("rollback");
    }),
    /rollback/,
  );
  assert.equal((await db.query("SELECT * FROM rolled")).rows.length, 0);
});

test("outboxSchema() prints idempotent statements for the README's manual migration", async () => {
  const statements = outboxSchema("printed_outbox");
  assert.equal(statements.length, 3);
  for (const statement of [...statements, ...statements]) await db.exec(statement);
  const columns = (await db.query<{ column_name: string }>(
    "SELECT column_name FROM information_schema.columns WHERE table_name = 'printed_outbox' ORDER BY ordinal_position",
  )).rows.map((r) => r.column_name);
  assert.deepEqual(columns, [
    "id",
    "name",
    "body",
    "due",
    "correlation_id",
    "origin",
    "created_at",
    "sent_at",
    "locked_until",
    "attempts",
    "last_error",
  ]);
});
