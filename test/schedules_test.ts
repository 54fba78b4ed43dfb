import assert from "node:assert/strict";
import { createBus, EdgebusError, type EventRecord, memoryDriver, MISSED_AFTER, type PublishItem } from "../mod.ts";
import { compileCron, planTicks, tickFirer, tickId } from "../driver/mod.ts";
import { eventually, sleep, test } from "./lib/t.ts";

const iso = (t: number | undefined): string | undefined => t === undefined ? undefined : new Date(t).toISOString();
const runs = (cron: string, tz: string, from: string, n: number): string[] => {
  const times = compileCron(cron, tz);
  const out: string[] = [];
  for (let t = times.next(Date.parse(from)); out.length < n && t !== undefined; t = times.next(t)) out.push(iso(t)!);
  return out;
};

test("compileCron() keeps 09:00 in Paris across both daylight saving changes", () => {
  assert.deepEqual(runs("0 9 * * MON", "Europe/Paris", "2026-03-20T00:00:00Z", 2), [
    "2026-03-23T08:00:00.000Z", // CET, UTC+1
    "2026-03-30T07:00:00.000Z", // CEST, UTC+2, the day after the change
  ]);
  assert.deepEqual(runs("0 9 * * MON", "Europe/Paris", "2026-10-15T00:00:00Z", 2), [
    "2026-10-19T07:00:00.000Z", // CEST
    "2026-10-26T08:00:00.000Z", // CET, the day after the change
  ]);
});

test("compileCron() fires a local time that does not exist once, at the first time after it, in Paris and New York", () => {
  // 02:30 does not exist on the spring-forward day: 03:00 local, then 02:30 again.
  assert.deepEqual(runs("30 2 * * *", "Europe/Paris", "2026-03-28T12:00:00Z", 2), [
    "2026-03-29T01:00:00.000Z", // 03:00 CEST
    "2026-03-30T00:30:00.000Z", // 02:30 CEST
  ]);
  assert.deepEqual(runs("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", 2), [
    "2026-03-08T07:00:00.000Z", // 03:00 EDT
    "2026-03-09T06:30:00.000Z", // 02:30 EDT
  ]);
});

test("compileCron() fires a local time that occurs twice once, and steps keep real time, in both zones", () => {
  assert.deepEqual(runs("30 2 * * *", "Europe/Paris", "2026-10-24T12:00:00Z", 2), [
    "2026-10-25T00:30:00.000Z", // the first 02:30 (CEST) only
    "2026-10-26T01:30:00.000Z", // 02:30 CET
  ]);
  assert.deepEqual(runs("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 2), [
    "2026-11-01T05:30:00.000Z", // the first 01:30 (EDT) only
    "2026-11-02T06:30:00.000Z",
  ]);
  // Every 30 minutes through the repeated hour: every half hour of real time, none twice.
  assert.deepEqual(runs("*/30 * * * *", "Europe/Paris", "2026-10-25T00:00:00Z", 5), [
    "2026-10-25T00:30:00.000Z",
    "2026-10-25T01:00:00.000Z",
    "2026-10-25T01:30:00.000Z",
    "2026-10-25T02:00:00.000Z",
    "2026-10-25T02:30:00.000Z",
  ]);
});

test("compileCron() finds Feb 29 only in leap years, and L as the last day of each month", () => {
  assert.deepEqual(runs("0 12 29 2 *", "UTC", "2026-01-01T00:00:00Z", 2), [
    "2028-02-29T12:00:00.000Z",
    "2032-02-29T12:00:00.000Z",
  ]);
  assert.deepEqual(runs("0 0 L * *", "Europe/Paris", "2028-01-15T00:00:00Z", 4), [
    "2028-01-30T23:00:00.000Z",
    "2028-02-28T23:00:00.000Z",
    "2028-03-30T22:00:00.000Z",
    "2028-04-29T22:00:00.000Z",
  ]);
  assert.deepEqual(runs("15 10 * * * *", "UTC", "2028-01-15T00:00:00Z", 2), [
    "2028-01-15T00:10:15.000Z",
    "2028-01-15T01:10:15.000Z",
  ]);
});

test("compileCron() refuses bad expressions and unknown zones, naming them", () => {
  for (
    const [cron, tz, fragment] of [
      ["61 * * * *", "UTC", "61 * * * *"],
      ["* * * * * * *", "UTC", "* * * * * * *"],
      ["0 0 30 2 *", "UTC", "never fires"],
      ["* * * * *", "Europe/Atlantis", "Europe/Atlantis"],
      [42, "UTC", "42"],
    ] as const
  ) {
    assert.throws(
      () => compileCron(cron, tz),
      (e: unknown) => e instanceof EdgebusError && e.code === "invalid_schedule" && e.message.includes(fragment),
    );
  }
});

test("tickId() is id-safe and the same in every process", () => {
  assert.equal(tickId("weekly-report", Date.UTC(2026, 2, 30, 7)), "weekly-report:20260330T070000Z");
  assert.match(tickId("a.b:c", Date.UTC(2028, 1, 29, 23, 59, 59)), /^[A-Za-z0-9_.:-]{1,256}$/);
});

const at = (s: string): number => Date.parse(s);
const everyMinute = compileCron("0 * * * * *", "UTC");

test("planTicks() publishes on-time ticks, and all, the latest or none of the missed ones", () => {
  const from = at("2026-01-01T00:00:30Z");
  const now = at("2026-01-01T00:05:01Z");
  const all = planTicks(everyMinute, "all", from, now).ticks.map(iso);
  assert.deepEqual(all, ["01", "02", "03", "04", "05"].map((m) => `2026-01-01T00:${m}:00.000Z`));
  assert.deepEqual(planTicks(everyMinute, "latest", from, now).ticks.map(iso), [
    "2026-01-01T00:04:00.000Z", // the latest missed one
    "2026-01-01T00:05:00.000Z", // on time (1 s late)
  ]);
  assert.deepEqual(planTicks(everyMinute, "none", from, now).ticks.map(iso), ["2026-01-01T00:05:00.000Z"]);
  assert.equal(iso(planTicks(everyMinute, "none", from, now).next), "2026-01-01T00:06:00.000Z");
  // More than MISSED_AFTER late and nothing on time: "none" publishes nothing.
  assert.deepEqual(planTicks(everyMinute, "none", from, at("2026-01-01T00:05:00Z") + MISSED_AFTER + 1).ticks, []);
  // A tick exactly handled is not published again.
  assert.deepEqual(planTicks(everyMinute, "all", at("2026-01-01T00:05:00Z"), now).ticks, []);
});

test("planTicks() with catchUp all keeps the latest `cap` ticks of a long outage, quickly", () => {
  const everySecond = compileCron("* * * * * *", "UTC");
  const from = at("2026-01-01T00:00:00Z");
  const now = at("2026-01-02T00:00:00Z"); // a day: 86,400 ticks missed
  const started = Date.now();
  const { ticks } = planTicks(everySecond, "all", from, now, 1_000);
  assert.equal(ticks.length, 1_000 + MISSED_AFTER / 1_000);
  assert.equal(iso(ticks.at(-1)), "2026-01-02T00:00:00.000Z");
  assert.equal(planTicks(everySecond, "latest", from, now).ticks.length, 1 + MISSED_AFTER / 1_000);
  assert.ok(Date.now() - started < 2_000, "planning walked the whole outage");
});

/** A fake bus for tickFirer: records what it would publish and answers records from a map. */
function fakeTarget(records: Map<string, Partial<EventRecord>> = new Map()) {
  const published: PublishItem[] = [];
  return {
    published,
    publishBatch: (items: readonly PublishItem[]) => {
      published.push(...items);
      return Promise.resolve(items.map((i) => i.id!));
    },
    get: (id: string) => Promise.resolve(records.get(id) as EventRecord | undefined),
  };
}

const schedule = (over: Record<string, unknown> = {}) => ({
  id: "s",
  cron: "0 * * * * *",
  name: "tick",
  body: { x: 1 },
  tz: "UTC",
  catchUp: "all" as const,
  overlap: "allow" as const,
  paused: false,
  since: at("2026-01-01T00:00:30Z"),
  updatedAt: 0,
  ...over,
});

test("tickFirer() publishes ticks as events with their ids and keeps the progress", async () => {
  const target = fakeTarget();
  const fire = tickFirer(target);
  const [fired] = await fire([{ schedule: schedule() }], at("2026-01-01T00:02:00.500Z"));
  assert.deepEqual(fired.published, ["s:20260101T000100Z", "s:20260101T000200Z"]);
  assert.deepEqual(target.published[0], { name: "tick", body: { x: 1 }, id: "s:20260101T000100Z", origin: "schedule" });
  assert.deepEqual(fired.progress, { last: at("2026-01-01T00:02:00.500Z"), lastEvent: "s:20260101T000200Z" });
  assert.equal(iso(fired.next), "2026-01-01T00:03:00.000Z");
  const [again] = await fire([{ schedule: schedule(), progress: fired.progress }], at("2026-01-01T00:02:30Z"));
  assert.deepEqual(again.published, []);
  const [paused] = await fire([{ schedule: schedule({ paused: true }) }], at("2026-01-01T00:05:00Z"));
  assert.deepEqual([paused.published, paused.next], [[], undefined]);
});

test("tickFirer() with overlap skip publishes one tick, none while the previous one runs", async () => {
  const records = new Map<string, Partial<EventRecord>>([["s:20260101T000100Z", { status: "retrying" }]]);
  const target = fakeTarget(records);
  const fire = tickFirer(target);
  const s = schedule({ overlap: "skip" });
  // A process that took over knows no last event: the tick before the first due one is checked.
  const progress = { last: at("2026-01-01T00:01:00.100Z") };
  const [skipped] = await fire([{ schedule: s, progress }], at("2026-01-01T00:02:00.100Z"));
  assert.deepEqual(skipped.published, []);
  assert.deepEqual(skipped.skipped.map(iso), ["2026-01-01T00:02:00.000Z"]);
  records.set("s:20260101T000100Z", { status: "done" });
  const [fired] = await fire([{ schedule: s, progress: skipped.progress }], at("2026-01-01T00:03:00.100Z"));
  assert.deepEqual(fired.published, ["s:20260101T000300Z"]);
  records.set("s:20260101T000300Z", { status: "pending" });
  const [next] = await fire([{ schedule: s, progress: fired.progress }], at("2026-01-01T00:06:00.100Z"));
  assert.deepEqual(next.published, [], "skipped while the last published tick runs");
  assert.deepEqual(next.skipped.map(iso), ["04", "05", "06"].map((m) => `2026-01-01T00:${m}:00.000Z`));
});

test("tickFirer() keeps the progress when publishing fails, so the ticks stay due", async () => {
  const fire = tickFirer({
    publishBatch: () => Promise.reject(new EdgebusError("unavailable", "down")),
    get: () => Promise.resolve(undefined),
  });
  const [fired] = await fire([{ schedule: schedule() }], at("2026-01-01T00:02:00.500Z"));
  assert.equal((fired.error as EdgebusError).code, "unavailable");
  assert.deepEqual(fired.progress, { last: schedule().since });
});

test("memory driver: declaring the same schedules at every start keeps their state; a bus stopped publishes none", async () => {
  const bus = createBus();
  const ids: string[] = [];
  bus.on("tick", (event) => void ids.push(event.id));
  await bus.schedule("s", "* * * * * *", "tick");
  await bus.schedules.pause("s");
  const again = await bus.schedule("s", "* * * * * *", "tick");
  assert.equal(again.change, "unchanged");
  assert.equal(again.paused, true);
  const replaced = await bus.schedule("s", "*/2 * * * * *", "tick");
  assert.equal(replaced.change, "replaced");
  assert.equal(replaced.paused, true, "a pause outlives a new spec");
  await bus.schedules.resume("s");
  await eventually(() => ids.length >= 1, 3_000);
  await bus.stop();
  const count = ids.length;
  await sleep(2_100);
  assert.equal(ids.length, count);
});

test("a driver without schedules refuses them, typed", async () => {
  const { schedules: _, ...driver } = memoryDriver();
  const bus = createBus({ driver });
  await assert.rejects(
    bus.schedule("s", "* * * * *", "tick"),
    (e: unknown) => e instanceof EdgebusError && e.code === "invalid_option",
  );
  await bus.stop();
});

test("tickFirer() with a lead publishes ticks ahead, due at their time, but not ticks too close nor skip schedules", async () => {
  const target = fakeTarget();
  const fire = tickFirer(target);
  const everySecond = schedule({ cron: "* * * * * *", since: at("2026-01-01T00:00:00Z") });
  const now = at("2026-01-01T00:00:00.900Z");
  const [fired] = await fire([{ schedule: everySecond, progress: { last: at("2026-01-01T00:00:00Z") } }], now, 2_000);
  // 00:00:01 is 100 ms ahead: it waits for its time; nothing after it is published before it.
  assert.deepEqual(fired.published, []);
  assert.equal(iso(fired.next), "2026-01-01T00:00:01.000Z");
  assert.equal(fired.progress.last, at("2026-01-01T00:00:01Z") - 1);
  const later = at("2026-01-01T00:00:01.000Z");
  const [ahead] = await fire([{ schedule: everySecond, progress: fired.progress }], later, 2_000);
  assert.deepEqual(ahead.published, ["s:20260101T000001Z", "s:20260101T000002Z", "s:20260101T000003Z"]);
  assert.deepEqual(target.published.map((i) => i.after), [
    undefined,
    at("2026-01-01T00:00:02Z"),
    at("2026-01-01T00:00:03Z"),
  ]);
  assert.equal(iso(ahead.next), "2026-01-01T00:00:04.000Z");
  const skip = schedule({ cron: "* * * * * *", overlap: "skip", since: at("2026-01-01T00:00:00Z") });
  const [skipped] = await fire([{ schedule: skip, progress: { last: at("2026-01-01T00:00:00Z") } }], later, 2_000);
  assert.deepEqual(skipped.published, ["s:20260101T000001Z"], "a skip schedule publishes at its time only");
});

test("pause() and delete() take back ticks published ahead of their time", async () => {
  // The bus reads each tick's record to cancel it: the reads show which ticks it took back.
  const cancelled: string[] = [];
  const driver = memoryDriver();
  const store = { ...driver.store, get: (id: string) => (cancelled.push(id), driver.store.get(id)) };
  const bus = createBus({ driver: { ...driver, store } });
  await bus.schedule("s", "* * * * * *", "tick");
  await bus.schedules.pause("s");
  assert.ok(cancelled.length >= 2 && cancelled.every((id) => id.startsWith("s:")), `cancelled ${cancelled}`);
  await bus.schedules.resume("s");
  cancelled.length = 0;
  await bus.schedules.delete("s");
  assert.ok(cancelled.length >= 2, `cancelled ${cancelled}`);
  await bus.stop();
});
