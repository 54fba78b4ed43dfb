import assert from "node:assert/strict";
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { test } from "vitest";
import type { DurableObjectNamespaceLike, DurableObjectStateLike } from "../../adapters/cloudflare/mod.ts";
import { objectName, shardOf } from "../../adapters/cloudflare/shard.ts";
import { eventually, sleep } from "../lib/t.ts";
import { freshPrefix, setup } from "./harness.ts";

const schedulers = env.EDGEBUS_SCHEDULER as DurableObjectNamespaceLike;
const schedulerOf = (prefix: string, id: string) =>
  schedulers.get(schedulers.idFromName(objectName(prefix, "scheduler", shardOf(id, 4))) as never);
const tickOf = (id: string): number =>
  Date.parse(
    id.slice(id.lastIndexOf(":") + 1).replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"),
  );

test("a schedule lives in the scheduler object's SQLite, its alarm armed at the next tick, and survives an eviction", async () => {
  const prefix = freshPrefix("cron-evict");
  const { bus } = setup({ prefix });
  const ticks: string[] = [];
  bus.on("cron.tick", (event) => void ticks.push(event.id));
  const declared = await bus.schedule("evicted", "* * * * * *", "cron.tick", { n: 1 });
  const [rows, alarm] = await runInDurableObject(
    schedulerOf(prefix, "evicted") as never,
    async (_: unknown, state: DurableObjectStateLike) => [
      state.storage.sql.exec("SELECT id, next FROM schedules").toArray(),
      await state.storage.getAlarm(),
    ],
  );
  // The row holds when the object wakes for the schedule (here the tick itself, as ticks one second
  // apart are too close to publish ahead), computed when it was stored; `declared.next` is computed
  // again a moment later by the bus, so a second boundary between the two moves it by one tick.
  const [row] = rows as { id: string; next: number }[];
  assert.equal(rows.length, 1);
  assert.equal(row.id, "evicted");
  assert.ok(
    row.next <= declared.next! && declared.next! - row.next <= 1_000,
    `stored ${row.next}, next ${declared.next}`,
  );
  assert.ok((alarm as number) <= row.next, "the alarm is armed at or before the next tick");
  await eventually(() => ticks.length >= 1, 5_000);
  await abortAllDurableObjects();
  const before = ticks.length;
  await eventually(() => ticks.length >= before + 2, 6_000);
  assert.equal(new Set(ticks).size, ticks.length, "a tick ran twice");
  assert.deepEqual((await bus.schedules.list()).items.map((s) => s.id), ["evicted"]);
  await bus.schedules.delete("evicted");
});

test("ticks missed while the object did not run follow catchUp: all, the latest, or none", async () => {
  const prefix = freshPrefix("cron-catchup");
  const { bus } = setup({ prefix });
  const ticks = new Map<string, number[]>();
  for (const policy of ["all", "latest", "none"] as const) {
    ticks.set(policy, []);
    bus.on(`cron.${policy}`, (event) => void ticks.get(policy)!.push(tickOf(event.id)));
    await bus.schedule(`catch-${policy}`, "* * * * * *", `cron.${policy}`, null, { catchUp: policy });
  }
  await eventually(() => [...ticks.values()].every((t) => t.length >= 1), 5_000);
  // As if the platform stopped running the objects: no alarm, evicted, for 9 s.
  for (const policy of ["all", "latest", "none"]) {
    await runInDurableObject(
      schedulerOf(prefix, `catch-${policy}`) as never,
      (_: unknown, state: DurableObjectStateLike) => state.storage.deleteAlarm(),
    );
  }
  await abortAllDurableObjects();
  const downAt = Date.now();
  await sleep(9_000);
  const upAt = Date.now();
  await bus.schedules.list(); // wakes every object, which re-arms its alarm at its overdue tick
  await sleep(1_500);
  for (const id of ["catch-all", "catch-latest", "catch-none"]) await bus.schedules.delete(id);
  // Ticks surely missed: after those published ahead (2 s) before the stop, and more than 3 s
  // late when the objects woke, with a second of margin.
  const inWindow = (t: number) => t > downAt + 3_000 && t < upAt - 4_000;
  const missed = (policy: string) => ticks.get(policy)!.filter(inWindow);
  const expected: number[] = [];
  for (let t = Math.ceil(downAt / 1_000) * 1_000; t < upAt; t += 1_000) if (inWindow(t)) expected.push(t);
  assert.ok(expected.length >= 1, "the outage is long enough to miss ticks");
  assert.deepEqual(missed("all").sort(), expected, "all");
  assert.ok(missed("latest").length <= 1, `latest published ${missed("latest").length} missed ticks`);
  assert.equal(missed("none").length, 0, "none");
  for (const [policy, list] of ticks) assert.equal(new Set(list).size, list.length, `${policy}: a tick ran twice`);
  // Ticks on time after the wake-up arrive for every policy.
  for (const [policy, list] of ticks) assert.ok(list.some((t) => t >= upAt - 500), `${policy}: nothing after waking`);
}, 30_000);
