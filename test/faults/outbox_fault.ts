/**
 * The Postgres outbox under faults: two relays racing; relays SIGKILLed mid-batch (in their own
 * processes, sending over HTTP to this process's router); Postgres restarted while producers
 * commit and relays send; transactions rolled back. Each committed row must have its effect
 * exactly once, and no rolled-back row any effect. `--short` runs the race alone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import postgres from "postgres";
import { createBus, type PublishItem } from "../../mod.ts";
import { router } from "../../adapters/hono/mod.ts";
import { postgresOutbox } from "../../adapters/postgres/mod.ts";
import { startPostgres } from "../postgres/server.ts";
import { Ledger, SHORT, sleep, waitFor } from "./ledger.ts";

const TOKEN = "tok_fault_0123456789abcdef";
const server = await startPostgres();
const sql = postgres(server.url, { onnotice: () => {}, max: 8 });
let failed = false;

/** A fresh outbox table, a bus that records effects, and a producer of committed (and rolled-back) rows. */
async function scenario(table: string) {
  const outbox = postgresOutbox({ sql, table });
  await outbox.migrate();
  const ledger = new Ledger();
  const rolledBack = new Set<string>();
  const bus = createBus();
  bus.on("fault.>", (event) => {
    const { p, seq } = event.body as { p: string; seq: number };
    if (rolledBack.has(`${p}/${seq}`)) ledger.unexpected(`effect of rolled-back ${p}/${seq}`);
    ledger.effect(p, seq);
  });
  /** Commits `count` rows in transactions of `per`; every `rollbackEvery`-th transaction rolls back. */
  async function produce(p: string, count: number, per: number, rollbackEvery = 0, db = sql): Promise<number> {
    let errors = 0;
    for (let seq = 0, tx = 0; seq < count; tx++) {
      const seqs = Array.from({ length: Math.min(per, count - seq) }, (_, i) => seq + i);
      seq += seqs.length;
      const rollback = rollbackEvery > 0 && tx % rollbackEvery === rollbackEvery - 1;
      try {
        await db.begin(async (t) => {
          const ids = await outbox.publishBatch(t, seqs.map((s) => ({ name: "fault.row", body: { p, seq: s } })));
          if (rollback) throw new Error("rolled back on purpose");
          return ids;
        }).then((ids) => seqs.forEach((s, i) => ledger.ack(p, s, ids[i])));
      } catch (error) {
        if (rollback && /on purpose/.test(String(error))) seqs.forEach((s) => rolledBack.add(`${p}/${s}`));
        else errors++; // the commit's answer was lost (Postgres restarting): not acknowledged
      }
    }
    return errors;
  }
  const rows = async () => (await sql.unsafe(`SELECT count(*)::int AS n FROM ${table}`))[0].n as number;
  return { outbox, ledger, bus, produce, rows };
}

function report(ledger: Ledger, name: string, extra: Record<string, string | number>): void {
  const tally = ledger.print(name, extra);
  if (tally.lost || tally.duplicated || tally.unexpected) failed = true;
}

async function race(): Promise<void> {
  const { outbox, ledger, bus, produce } = await scenario("race");
  // One relay holds its rows in a transaction, the other leases them: the two ways share a table.
  const relays = [outbox.relay(bus, { batchSize: 25 }), outbox.relay(bus, { batchSize: 25, claim: "lease" })];
  const count = SHORT ? 1_000 : 10_000;
  await Promise.all([produce("a", count / 2, 10, 5), produce("b", count / 2, 1, 7)]);
  await waitFor(() => ledger.complete(), 30_000, 50);
  await sleep(300);
  await Promise.all(relays.map((r) => r.stop()));
  await bus.stop();
  report(ledger, "outbox: two relays racing, transactions rolled back", { rows: count });
}

async function killRelays(): Promise<void> {
  const { ledger, bus, produce, rows } = await scenario("edgebus_outbox");
  // Counts rows sent more than once (a relay killed after sending and before deleting): they must
  // reach the bus again and still have one effect.
  const seen = new Set<string>();
  let resent = 0;
  const counted = {
    ...bus,
    publishBatch(items: readonly PublishItem[]) {
      for (const { id } of items) seen.has(id!) ? resent++ : seen.add(id!);
      return bus.publishBatch(items);
    },
  };
  const app = router(counted, { tokens: [TOKEN] });
  const g = globalThis as unknown as { Bun: { serve(o: unknown): { port: number; stop(): void } } };
  const http = g.Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (r: Request) => app.fetch(r) });
  const start = (): ChildProcess => {
    const child = spawn(process.execPath, ["test/faults/outbox_relay.ts"], {
      env: { ...process.env, PG_URL: server.url, REMOTE_URL: `http://127.0.0.1:${http.port}`, TOKEN },
      stdio: ["ignore", "ignore", "inherit"],
    });
    process.once("exit", () => child.kill("SIGKILL"));
    return child;
  };
  const count = 6_000;
  await produce("k", count, 100);
  let kills = 0;
  for (let round = 0; round < 6 && (await rows()) > 0; round++) {
    const relays = [start(), start()];
    await waitFor(async () => (await rows()) < count - (round + 1) * 600, 20_000, 10);
    for (const child of relays) {
      child.kill("SIGKILL");
      kills++;
    }
  }
  const last = start(); // one relay left to finish the rows the killed ones held
  await waitFor(() => ledger.complete(), 60_000, 50);
  await sleep(2_500); // past the lease: a re-sent row would have its effect by now
  last.kill("SIGKILL");
  http.stop();
  await bus.stop();
  report(ledger, "outbox: relays SIGKILLed mid-batch", { rows: count, kills, resent, left: await rows() });
}

async function restartPostgres(): Promise<void> {
  const { outbox, ledger, bus, produce, rows } = await scenario("restart");
  const relay = outbox.relay(bus, { batchSize: 50, lease: 2_000, pollInterval: 100, onError: () => {} });
  let producing = true;
  const producers = (async () => {
    let p = 0;
    let errors = 0;
    while (producing) errors += await produce(`r${p++}`, 200, 10, 4);
    return errors;
  })();
  for (let i = 0; i < 3; i++) {
    await sleep(1_500);
    await server.kill();
    await sleep(500);
    await server.restart();
  }
  await sleep(1_000);
  producing = false;
  const errors = await producers;
  await waitFor(() => ledger.complete(), 30_000, 50);
  await sleep(500);
  const left = await rows();
  if (!ledger.complete()) {
    const sample = await sql.unsafe(
      `SELECT id, attempts, locked_until, sent_at, last_error, now() AS now FROM restart LIMIT 3`,
    );
    console.log(`  ${left} rows left, for example ${JSON.stringify(sample)}`);
  }
  await relay.stop();
  await bus.stop();
  report(ledger, "outbox: Postgres restarted under load", { restarts: 3, unanswered_commits: errors, left });
}

try {
  await race();
  if (!SHORT) {
    await killRelays();
    await restartPostgres();
  }
} finally {
  await sql.end({ timeout: 1 });
  await server.stop();
}
process.exit(failed ? 1 : 0);
