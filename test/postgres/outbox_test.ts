/**
 * The Postgres outbox against a real Postgres (started on a free port for this file), through
 * postgres.js, node-postgres and a plain query function, relaying to the memory bus.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import pg from "pg";
import { createBus, EdgebusError, type PublishItem } from "../../mod.ts";
import { postgresOutbox } from "../../adapters/postgres/mod.ts";
import { remoteBus } from "../../adapters/remote/mod.ts";
import { router } from "../../adapters/hono/mod.ts";
import { afterAll, eventually, sleep, test } from "../lib/t.ts";
import { startPostgres } from "./server.ts";

const server = await startPostgres();
const sql = postgres(server.url, { onnotice: () => {}, max: 4 });
const pool = new pg.Pool({ connectionString: server.url, max: 4 });
// Idle pool connections report the server's shutdown at the end as errors: expected here.
pool.on("error", () => {});
let tables = 0;
afterAll(async () => {
  await sql.end({ timeout: 1 });
  await pool.end();
  await server.stop();
});

/** A fresh outbox table and a `users` table beside it. */
async function setup(options: { notify?: boolean } = {}) {
  const table = `outbox_${tables++}`;
  const outbox = postgresOutbox({ sql, table, ...options });
  await outbox.migrate();
  await sql.unsafe(`CREATE TABLE ${table}_users (id text PRIMARY KEY)`);
  const bus = createBus();
  const runs = new Map<string, number>();
  bus.on("user.>", (event) => {
    runs.set(event.id, (runs.get(event.id) ?? 0) + 1);
  });
  const rows = async () => (await sql.unsafe(`SELECT count(*)::int AS n FROM ${table}`))[0].n as number;
  return { table, outbox, bus, runs, rows, users: `${table}_users` };
}

test("publish() in a postgres.js transaction: after commit the relay sends it, with the same id", async () => {
  const { outbox, bus, runs, rows, users } = await setup();
  let id = "";
  await sql.begin(async (tx) => {
    await tx.unsafe(`INSERT INTO ${users} VALUES ('u1')`);
    id = await outbox.publish(tx, "user.joined", { user_id: "u1" });
  });
  assert.equal(await rows(), 1);
  const relay = outbox.relay(bus, { pollInterval: 50 });
  await eventually(() => runs.get(id) === 1);
  assert.deepEqual((await bus.get(id))?.body, { user_id: "u1" });
  await eventually(async () => (await rows()) === 0);
  await relay.stop();
  await bus.stop();
});

test("a rolled-back transaction leaves neither the data nor the event", async () => {
  const { outbox, bus, runs, rows, users } = await setup();
  const relay = outbox.relay(bus, { pollInterval: 20 });
  await assert.rejects(
    sql.begin(async (tx) => {
      await tx.unsafe(`INSERT INTO ${users} VALUES ('u2')`);
      await outbox.publish(tx, "user.joined", { id: "gone" }, { user_id: "u2" });
      throw new Error("the app changed its mind");
    }),
    /changed its mind/,
  );
  await sleep(200);
  assert.equal(await rows(), 0);
  assert.equal((await sql.unsafe(`SELECT count(*)::int AS n FROM ${users}`))[0].n, 0);
  assert.equal(runs.size, 0);
  assert.equal(await bus.get("gone"), undefined);
  await relay.stop();
  await bus.stop();
});

test("publish() checks like bus.publish before writing anything", async () => {
  const { outbox, rows } = await setup();
  const refused = async (items: PublishItem[], code: string) => {
    await assert.rejects(
      sql.begin((tx) => outbox.publishBatch(tx, items)),
      (e: unknown) => e instanceof EdgebusError && e.code === code,
    );
  };
  await refused([{ name: "user.ok", body: 1 }, { name: "user..bad", body: 1 }], "invalid_name");
  await refused([{ name: "user.ok", body: 1, after: -5 }], "invalid_delay");
  await refused([{ name: "user.ok", body: 1, after: "2 years" }], "invalid_delay");
  await refused([{ name: "user.ok", body: 1, id: "no spaces" }], "invalid_id");
  await refused([{ name: "user.ok", body: { n: 1n } }], "not_serializable");
  await refused([{ name: "user.ok", body: "x".repeat(300_000) }], "too_large");
  await assert.rejects(
    sql.begin((tx) => outbox.publish(tx, "user.ok", "not options" as never, {})),
    (e: unknown) => e instanceof EdgebusError && e.code === "invalid_option",
  );
  assert.equal(await rows(), 0);
});

test("node-postgres: a PoolClient inside BEGIN, relayed by a pool that LISTENs (no polling)", async () => {
  const table = `outbox_${tables++}`;
  const outbox = postgresOutbox({ sql: pool, table });
  await outbox.migrate();
  const bus = createBus();
  const seen: number[] = [];
  bus.on("order.placed", () => {
    seen.push(Date.now());
  });
  // A poll interval of a minute: only the NOTIFY at commit can wake the relay in time.
  const relay = outbox.relay(bus, { pollInterval: 60_000 });
  await sleep(300); // the relay's first round and LISTEN
  const client = await pool.connect();
  let committed = 0;
  try {
    await client.query("BEGIN");
    await outbox.publish(client, "order.placed", { total: 5 });
    await client.query("COMMIT");
    committed = Date.now();
  } finally {
    client.release();
  }
  await eventually(() => seen.length === 1, 3_000);
  assert.ok(seen[0] - committed < 1_000, `delivered ${seen[0] - committed} ms after commit`);
  await relay.stop();
  await bus.stop();
});

test("a plain query function fits (as Drizzle or Kysely users would wrap theirs)", async () => {
  const { outbox, bus, runs, table } = await setup();
  const client = await pool.connect();
  let id = "";
  try {
    await client.query("BEGIN");
    const query = (text: string, params: unknown[]) => client.query(text, params).then((r) => r.rows);
    id = await outbox.publish(query, "user.left", { id: "k1" }, { why: "bye" });
    await client.query("COMMIT");
  } finally {
    client.release();
  }
  assert.equal(id, "k1");
  const relay = postgresOutbox({ sql: (t: string, p: unknown[]) => sql.unsafe(t, p as never[]), table })
    .relay(bus, { pollInterval: 20 });
  await eventually(() => runs.get("k1") === 1);
  await relay.stop();
  await bus.stop();
  void outbox;
});

test("after is an absolute due time: a late relay does not add the delay again", async () => {
  const { outbox, bus, runs } = await setup();
  const published = Date.now();
  const id = await sql.begin((tx) => outbox.publish(tx, "user.reminded", { after: 1_500 }, {}));
  await sleep(800); // the relay starts late
  const relay = outbox.relay(bus, { pollInterval: 20 });
  await eventually(async () => (await bus.get(id))?.status === "scheduled");
  const due = (await bus.get(id))!.due!;
  assert.ok(Math.abs(due - (published + 1_500)) < 150, `due ${due - published} ms after publish`);
  await eventually(() => runs.get(id) === 1, 3_000);
  // A due time already past publishes at once.
  const late = await sql.begin((tx) => outbox.publish(tx, "user.reminded", { after: 300 }, {}));
  await relay.stop();
  await sleep(400);
  const again = outbox.relay(bus, { pollInterval: 20 });
  await eventually(() => runs.get(late) === 1, 2_000);
  await again.stop();
  await bus.stop();
});

test("two relays at once send every row, and each row becomes one event", async () => {
  const { outbox, bus, runs, rows } = await setup();
  const items = Array.from({ length: 300 }, (_, i) => ({ name: "user.bulk", body: { i } }));
  const ids = await sql.begin((tx) => outbox.publishBatch(tx, items));
  const [a, b] = [outbox.relay(bus, { batchSize: 7 }), outbox.relay(bus, { batchSize: 7 })];
  await eventually(() => ids.every((id) => runs.get(id) === 1), 10_000);
  // A relay deletes its rows in the transaction it commits after the send: a moment after the events ran.
  await eventually(async () => (await rows()) === 0);
  await Promise.all([a.stop(), b.stop()]);
  await sleep(50);
  assert.equal([...runs.values()].reduce((x, y) => x + y, 0), 300);
  await bus.stop();
});

test("claim: lease: a relay that froze after sending is overtaken after its lease; the bus keeps one event", async () => {
  const { outbox, bus, runs, rows } = await setup();
  const id = await sql.begin((tx) => outbox.publish(tx, "user.joined", { n: 1 }));
  let sends = 0;
  // The first relay's send lands on the bus and then never returns, as if its process froze.
  const frozen = outbox.relay({
    async publishBatch(items) {
      sends++;
      await bus.publishBatch(items);
      return await new Promise<string[]>(() => {});
    },
  }, { claim: "lease", lease: 500, pollInterval: 60_000 });
  await eventually(() => runs.get(id) === 1);
  const second = outbox.relay({
    publishBatch(items) {
      sends++;
      return bus.publishBatch(items);
    },
  }, { claim: "lease", lease: 500, pollInterval: 50 });
  await eventually(async () => (await rows()) === 0, 5_000);
  assert.equal(sends, 2);
  await sleep(100);
  assert.equal(runs.get(id), 1);
  void frozen; // its loop stays parked in the send, like a dead process; the test ends without it
  await second.stop();
  await bus.stop();
});

test("retention keeps sent rows, marked sent, instead of deleting them", async () => {
  const { outbox, bus, runs, table } = await setup();
  const id = await sql.begin((tx) => outbox.publish(tx, "user.kept", {}));
  const relay = outbox.relay(bus, { retention: 3_600_000, pollInterval: 20 });
  await eventually(() => runs.get(id) === 1);
  await eventually(async () =>
    (await sql.unsafe(`SELECT sent_at FROM ${table} WHERE id = $1`, [id]))[0]?.sent_at instanceof Date
  );
  await relay.stop();
  await bus.stop();
});

test("a row the bus refuses waits with its error; the rows beside it are sent", async () => {
  const { outbox, rows, table } = await setup();
  const bus = createBus({
    schemas: {
      "user.typed": {
        "~standard": {
          version: 1,
          vendor: "test",
          validate: (v: unknown) =>
            typeof v === "number" ? { value: v } : { issues: [{ message: "expected a number" }] },
        },
      },
    },
  });
  const ok: string[] = [];
  bus.on("user.typed", (e) => {
    ok.push(e.id);
  });
  const ids = await sql.begin((tx) =>
    outbox.publishBatch(tx, [{ name: "user.typed", body: 1 }, { name: "user.typed", body: "two" }, {
      name: "user.typed",
      body: 3,
    }])
  );
  const errors: unknown[] = [];
  const relay = outbox.relay(bus, { pollInterval: 20, onError: (e) => errors.push(e) });
  await eventually(() => ok.length === 2);
  assert.deepEqual(ok.sort(), [ids[0], ids[2]].sort());
  await eventually(async () => (await rows()) === 1);
  const row = await eventually(async () =>
    (await sql.unsafe(`SELECT id, last_error FROM ${table} WHERE last_error IS NOT NULL`))[0]
  );
  assert.equal(row.id, ids[1]);
  assert.match(String(row.last_error), /expected a number/);
  assert.ok(errors.length >= 1);
  await relay.stop();
  await bus.stop();
});

test("the same id published twice in the outbox is one row and one event", async () => {
  const { outbox, bus, runs, rows } = await setup();
  await sql.begin((tx) => outbox.publish(tx, "user.once", { id: "once-1" }, { a: 1 }));
  await sql.begin((tx) => outbox.publish(tx, "user.once", { id: "once-1" }, { a: 2 }));
  assert.equal(await rows(), 1);
  const relay = outbox.relay(bus, { pollInterval: 20 });
  await eventually(() => runs.get("once-1") === 1);
  assert.deepEqual((await bus.get("once-1"))?.body, { a: 1 });
  await relay.stop();
  await bus.stop();
});

test("postgresOutbox() refuses a bad table name, and a relay without a connection", () => {
  assert.throws(() => postgresOutbox({ table: "Robert'); DROP TABLE students;--" }), /Invalid outbox table/);
  assert.throws(() => postgresOutbox({}).relay(createBus()), /pass postgresOutbox\(\{ sql \}\)/);
  assert.throws(() => postgresOutbox({ sql: 42 as never }), /Cannot use the outbox's sql option/);
});

test("the relay sends into a remote bus (the router over HTTP, signed): one event per committed row, chain kept", async () => {
  const { outbox, bus, runs, rows } = await setup();
  const app = router(bus, { tokens: ["tok_outbox_0123456789ab"], signingSecrets: ["whsec_outbox_0123456789"] });
  const remote = remoteBus("http://app.test/", {
    token: "tok_outbox_0123456789ab",
    signingSecret: "whsec_outbox_0123456789",
    fetch: async (request) => await app.fetch(request),
  });
  const ids = await sql.begin((tx) =>
    outbox.publishBatch(
      tx,
      Array.from({ length: 30 }, (_, i) => ({
        name: "user.remote",
        body: { i },
        ...(i === 0 ? { correlationId: "signup-1", origin: "accounts" } : {}),
      })),
    )
  );
  const relay = outbox.relay(remote, { batchSize: 8, pollInterval: 20 });
  await eventually(() => ids.every((id) => runs.get(id) === 1), 5_000);
  await eventually(async () => (await rows()) === 0);
  const [first, second] = [await bus.get(ids[0]), await bus.get(ids[1])];
  assert.deepEqual([first?.correlationId, first?.origin], ["signup-1", "accounts"]);
  assert.equal(second?.correlationId, ids[1]);
  await relay.stop();
  await bus.stop();
});

test("notify: false writes no NOTIFY; the relay finds the rows by polling", async () => {
  const { outbox, bus, runs } = await setup({ notify: false });
  const woken: string[] = [];
  const listener = await sql.listen(outbox.table, (payload) => void woken.push(payload));
  const relay = outbox.relay(bus, { pollInterval: 100 });
  const id = await sql.begin((tx) => outbox.publish(tx, "user.polled", {}));
  await eventually(() => runs.get(id) === 1, 3_000);
  assert.deepEqual(woken, []);
  await listener.unlisten();
  await relay.stop();
  await bus.stop();
});

test("claim: transaction: a relay whose connection dies after sending releases its rows at once", async () => {
  const { outbox, bus, runs, rows, table } = await setup();
  const id = await sql.begin((tx) => outbox.publish(tx, "user.joined", { n: 2 }));
  let sends = 0;
  let cut = 0;
  // The send lands on the bus, then the relay's connection is cut (as when its process is killed)
  // and the relay never returns: its transaction is rolled back, the row unlocked and not deleted.
  const dying = outbox.relay({
    async publishBatch(items) {
      sends++;
      await bus.publishBatch(items);
      const killed = await sql.unsafe(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE state LIKE 'idle in transaction%' AND query LIKE '%FROM ${table}%FOR UPDATE SKIP LOCKED%'`,
      );
      cut = killed.length;
      return await new Promise<string[]>(() => {});
    },
  }, { pollInterval: 60_000, onError: () => {} });
  await eventually(() => runs.get(id) === 1 && cut > 0); // the cut is done before another relay starts
  assert.equal(cut, 1);
  // The dying relay sees its connection fail while its send still hangs: it must not start another
  // round (and send the row again) meanwhile.
  await sleep(500);
  assert.equal(sends, 1);
  const started = Date.now();
  const second = outbox.relay({
    publishBatch(items) {
      sends++;
      return bus.publishBatch(items);
    },
  }, { pollInterval: 50 });
  await eventually(async () => (await rows()) === 0, 5_000);
  assert.ok(Date.now() - started < 2_000, "no lease to wait for");
  assert.equal(sends, 2);
  await sleep(100);
  assert.equal(runs.get(id), 1);
  void dying;
  await second.stop();
  await bus.stop();
});
