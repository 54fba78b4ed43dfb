import { assert } from "./assert.ts";
import { createBus, EdgebusError, type Event } from "../mod.ts";
import { tickId } from "../driver/mod.ts";
import { eventually, sleep } from "./wait.ts";
import { type ConformanceOptions, fastRetry, type Register, withBus } from "./setup.ts";

const EVERY_SECOND = "* * * * * *";
/** The tick time in a tick's event id. */
const tickOf = (id: string): number =>
  Date.parse(
    id.slice(id.lastIndexOf(":") + 1).replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"),
  );
const refused = (code: string, fragment: string) => (error: unknown): boolean =>
  error instanceof EdgebusError && error.code === code && error.message.includes(fragment);

/** Schedules: ticks as events, declaring again, pause, resume, delete, overlap, bad input. */
export function scheduleCases(o: ConformanceOptions, test: Register): void {
  const patience = o.patience ?? 5_000;

  test(
    "schedule() publishes each tick once, as <id>:<tick time>, never due before its time",
    withBus(o, {}, async (bus) => {
      const seen: { event: Event; at: number }[] = [];
      bus.on("tick.second", (event) => void seen.push({ event, at: Date.now() }));
      const declared = await bus.schedule("every-second", EVERY_SECOND, "tick.second", { n: 1 });
      assert.equal(declared.change, "created");
      assert.ok(declared.next! > declared.since && declared.next! <= Date.now() + 1_000, "next is the next second");
      await eventually(() => seen.length >= 2, patience + 2_000);
      await bus.schedules.delete("every-second");
      const [first] = seen.map((s) => s.event);
      assert.equal(first.id, tickId("every-second", tickOf(first.id)));
      assert.ok(tickOf(first.id) > declared.since, "a tick before the declaration");
      assert.equal(tickOf(seen[1].event.id), tickOf(first.id) + 1_000, "the second tick is the next second");
      assert.deepEqual(first.body, { n: 1 });
      assert.equal(first.name, "tick.second");
      assert.equal(first.origin, "schedule");
      for (const { event, at } of seen) {
        // Published at its tick or later, or ahead with its due time at the tick; run no earlier.
        const tick = tickOf(event.id);
        assert.ok(
          event.time + event.delay >= tick,
          `${event.id} was due at ${event.time + event.delay}, before its tick`,
        );
        assert.ok(at >= tick, `${event.id} ran at ${new Date(at).toISOString()}, before its tick`);
      }
      assert.equal(new Set(seen.map((s) => s.event.id)).size, seen.length, "a tick ran twice");
      assert.equal((await bus.get(first.id))?.status, "done");
    }),
  );

  test(
    "schedule() with the same spec changes nothing, with another replaces it; list, get and delete",
    withBus(o, {}, async (bus) => {
      const first = await bus.schedule("weekly-report", "0 9 * * MON", "report.weekly", {}, { tz: "Europe/Paris" });
      const again = await bus.schedule("weekly-report", "0 9 * * MON", "report.weekly", {}, { tz: "Europe/Paris" });
      assert.equal(again.change, "unchanged");
      assert.equal(again.updatedAt, first.updatedAt);
      assert.equal(again.since, first.since);
      const next = new Date(first.next!);
      assert.equal(next.getUTCDay(), 1, "a Monday");
      assert.ok([7, 8].includes(next.getUTCHours()) && next.getUTCMinutes() === 0, "09:00 in Paris");
      const replaced = await bus.schedule("weekly-report", "0 10 * * MON", "report.weekly", { v: 2 }, {
        tz: "Europe/Paris",
        catchUp: "none",
        overlap: "skip",
      });
      assert.equal(replaced.change, "replaced");
      const got = await bus.schedules.get("weekly-report");
      assert.equal(got?.cron, "0 10 * * MON");
      assert.deepEqual(got?.body, { v: 2 });
      assert.equal(got?.catchUp, "none");
      assert.equal(got?.overlap, "skip");
      await bus.schedule("a-daily", "@daily", "report.daily");
      await bus.schedule("z-hourly", "0 * * * *", "report.hourly");
      const page = await bus.schedules.list({ limit: 2 });
      assert.deepEqual(page.items.map((s) => s.id), ["a-daily", "weekly-report"]);
      const rest = await bus.schedules.list({ limit: 2, cursor: page.cursor });
      assert.deepEqual(rest.items.map((s) => s.id), ["z-hourly"]);
      assert.equal(rest.cursor, undefined);
      assert.equal(await bus.schedules.delete("weekly-report"), true);
      assert.equal(await bus.schedules.delete("weekly-report"), false);
      assert.equal(await bus.schedules.get("weekly-report"), undefined);
      assert.equal(await bus.schedules.pause("weekly-report"), false);
      assert.deepEqual((await bus.schedules.list()).items.map((s) => s.id), ["a-daily", "z-hourly"]);
    }),
  );

  test(
    "schedule() refuses a bad expression, zone, id, policy, name or body, typed, and stores nothing",
    withBus(o, { schemas: { "typed.event": { "~standard": typedSchema } } }, async (bus) => {
      const cases: [() => Promise<unknown>, string, string][] = [
        [() => bus.schedule("s1", "61 * * * *", "a.b"), "invalid_schedule", "61 * * * *"],
        [() => bus.schedule("s1", "* * *", "a.b"), "invalid_schedule", "* * *"],
        [() => bus.schedule("s1", "0 0 31 2 *", "a.b"), "invalid_schedule", "never fires"],
        [() => bus.schedule("s1", "* * * * *", "a.b", {}, { tz: "Mars/Olympus" }), "invalid_schedule", "Mars/Olympus"],
        [() => bus.schedule("bad id!", "* * * * *", "a.b"), "invalid_schedule", "bad id!"],
        [() => bus.schedule("x".repeat(201), "* * * * *", "a.b"), "invalid_schedule", "schedule id"],
        [() => bus.schedule("s1", "* * * * *", "a.b", {}, { catchUp: "some" as never }), "invalid_schedule", "some"],
        [() => bus.schedule("s1", "* * * * *", "a.b", {}, { overlap: "queue" as never }), "invalid_schedule", "queue"],
        [() => bus.schedule("s1", "* * * * *", "a..b"), "invalid_name", "a..b"],
        [() => bus.schedule("s1", "* * * * *", "a.b", { n: 1n }), "not_serializable", "bigint"],
        [() => bus.schedule("s1", "* * * * *", "a.b", "x".repeat(300_000)), "too_large", "s1"],
        [() => bus.schedule("s1", "* * * * *", "typed.event", { n: "one" }), "invalid_body", "typed.event"],
      ];
      for (const [call, code, fragment] of cases) {
        await assert.rejects(call(), refused(code, fragment), `${code} naming ${fragment}`);
      }
      assert.deepEqual((await bus.schedules.list()).items, []);
    }),
  );

  test(
    "pause() stops ticks, resume() publishes from then on without catching up, overlap skip waits for the running tick",
    withBus(o, {}, async (bus) => {
      const paused: string[] = [];
      const slow: { id: string; start: number; end: number }[] = [];
      bus.on("tick.paused", (event) => void paused.push(event.id));
      bus.on("tick.slow", async (event) => {
        const start = Date.now();
        await sleep(1_600);
        slow.push({ id: event.id, start, end: Date.now() });
      });
      await bus.schedule("pausing", EVERY_SECOND, "tick.paused");
      await bus.schedule("slow", EVERY_SECOND, "tick.slow", null, { overlap: "skip" });
      await eventually(() => paused.length >= 1, patience + 2_000);
      assert.equal(await bus.schedules.pause("pausing"), true);
      const info = await bus.schedules.get("pausing");
      assert.equal(info?.paused, true);
      assert.equal(info?.next, undefined);
      await sleep(600); // a tick published just before the pause may still be on its way
      const before = paused.length;
      await sleep(1_600);
      assert.equal(paused.length, before, "a paused schedule published");
      const resumedAt = Date.now();
      assert.equal(await bus.schedules.resume("pausing"), true);
      await eventually(() => paused.length > before, patience + 2_000);
      const tick = paused[before];
      assert.ok(tick > tickId("pausing", resumedAt - 1_000), `${tick} was due while paused`);
      await eventually(() => slow.length >= 2, patience + 4_000);
      await bus.schedules.delete("slow");
      await bus.schedules.delete("pausing");
      // Every-second ticks of a 1.6 s handler: with skip no two runs overlap.
      const sorted = [...slow].sort((a, b) => a.start - b.start);
      for (let i = 1; i < sorted.length; i++) {
        assert.ok(sorted[i].start >= sorted[i - 1].end - 50, `${sorted[i].id} ran while ${sorted[i - 1].id} ran`);
      }
    }),
  );

  test(
    "catchUp decides on ticks the clock jumped over: all of them, the latest, or none",
    async () => {
      if (!o.createWithClock) {
        throw new Error("Pass createWithClock to run this case, or skip it with the reason");
      }
      let offset = 0;
      const now = (): number => Date.now() + offset;
      const driver = await o.createWithClock(now);
      const bus = createBus({ retry: fastRetry, gracePeriod: 1_000, driver, now });
      const ticks = new Map<string, number[]>();
      try {
        for (const policy of ["all", "latest", "none"] as const) {
          ticks.set(policy, []);
          bus.on(`tick.${policy}`, (event) => void ticks.get(policy)!.push(tickOf(event.id)));
          await bus.schedule(`jump-${policy}`, EVERY_SECOND, `tick.${policy}`, null, { catchUp: policy });
        }
        await bus.start();
        await eventually(() => [...ticks.values()].every((t) => t.length >= 1), patience + 2_000);
        const jumpedAt = now();
        offset += 10_000; // ten seconds pass at once, as over a machine's sleep
        await eventually(() => [...ticks.values()].every((t) => t.some((tick) => tick > jumpedAt + 10_000)), patience);
        await sleep(300);
        // Surely missed: after ticks a driver may have published ahead (up to 3 s) before the jump,
        // and more than 3 s before the clock's new time, with a second of margin.
        const missed = (t: number) => t > jumpedAt + 3_000 && t < jumpedAt + 10_000 - 3_000 - 1_000;
        const expected: number[] = [];
        for (let t = Math.ceil(jumpedAt / 1_000) * 1_000; t < jumpedAt + 10_000; t += 1_000) {
          if (missed(t)) expected.push(t);
        }
        assert.ok(expected.length >= 1, "the jump leaves ticks missed");
        const seen = (policy: string) => [...new Set(ticks.get(policy)!.filter(missed))].sort();
        assert.deepEqual(seen("all"), expected, "all publishes every missed tick");
        assert.ok(seen("latest").length <= 1, `latest published ${seen("latest").length} missed ticks`);
        assert.deepEqual(seen("none"), [], "none publishes no missed tick");
        for (const [policy, list] of ticks) {
          assert.equal(new Set(list).size, list.length, `${policy}: a tick ran twice`);
        }
      } finally {
        await bus.stop();
        await o.cleanup?.();
      }
    },
  );
}

/** A Standard Schema that wants `{ n: number }`. */
const typedSchema = {
  version: 1 as const,
  vendor: "edgebus-test",
  validate: (value: unknown) =>
    typeof (value as { n?: unknown })?.n === "number"
      ? { value }
      : { issues: [{ message: "Expected n to be a number", path: ["n"] }] },
};
