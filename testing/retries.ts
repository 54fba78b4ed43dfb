import { assert } from "./assert.ts";
import { type Bus, type EventRecord, type EventStatus, NonRetriableError, RetryAfterError } from "../mod.ts";
import { eventually } from "./wait.ts";
import { type ConformanceOptions, type Register, withBus } from "./setup.ts";

/** Retries, per-handler results, timeouts and dead letters. */
export function retryCases(o: ConformanceOptions, test: Register): void {
  const patience = o.patience ?? 5_000;
  const settled = (bus: Bus, id: string, status: EventStatus): Promise<EventRecord> =>
    eventually(async () => {
      const r = await bus.get(id);
      return r?.status === status ? r : undefined;
    }, patience);

  test(
    "a failing handler is retried with the policy's spacing until it succeeds",
    withBus(o, {}, async (bus) => {
      const attempts: { attempt: number; at: number }[] = [];
      bus.on("job.run", (event) => {
        attempts.push({ attempt: event.attempt, at: Date.now() });
        if (event.attempt < 3) throw new Error(`flaky ${event.attempt}`);
      });
      const id = await bus.publish("job.run", {});
      const record = await settled(bus, id, "done");
      assert.deepEqual(attempts.map((a) => a.attempt), [1, 2, 3]);
      for (let i = 1; i < attempts.length; i++) {
        assert.ok(attempts[i].at - attempts[i - 1].at >= 45, "retried sooner than minDelay");
      }
      const full = await bus.get(id);
      assert.equal(record.status, "done");
      assert.equal(full?.attempt, 3);
      assert.equal(full?.handlers["job.run#1"].attempts, 3);
    }),
  );

  test(
    "only the handler that failed runs again",
    withBus(o, {}, async (bus) => {
      const runs: Record<string, number> = { a: 0, b: 0, c: 0 };
      bus.on("doc.saved", { id: "a" }, () => void runs.a++);
      bus.on("doc.saved", { id: "b" }, () => {
        if (++runs.b === 1) throw new Error("b failed once");
      });
      bus.on("doc.saved", { id: "c" }, () => void runs.c++);
      const id = await bus.publish("doc.saved", {});
      const record = await settled(bus, id, "done");
      assert.deepEqual(runs, { a: 1, b: 2, c: 1 });
      const handlers = (await bus.get(id))!.handlers;
      assert.deepEqual([handlers.a.attempts, handlers.b.attempts, handlers.c.attempts], [1, 2, 1]);
      assert.equal(record.status, "done");
    }),
  );

  test(
    "each handler's success is saved before the next handler starts",
    withBus(o, {}, async (bus) => {
      let seenByB: string | undefined;
      bus.on("doc.saved", { id: "a" }, () => {});
      bus.on("doc.saved", { id: "b" }, async (event) => {
        // Independent handlers (another process may run a): a's result is saved as soon as a ends.
        const read = async () => (await bus.get(event.id))?.handlers.a?.status;
        seenByB = o.independentHandlers ? await eventually(read, 3_000) : await read();
      });
      const id = await bus.publish("doc.saved", {});
      await settled(bus, id, "done");
      assert.equal(seenByB, "done", "a crash during b would re-run a");
    }),
  );

  test(
    "an event out of attempts becomes a dead letter with each handler's error",
    withBus(o, {}, async (bus) => {
      let runs = 0;
      bus.on("pay.charge", { id: "ok" }, () => {});
      bus.on("pay.charge", { id: "broken" }, () => {
        runs++;
        throw new TypeError("card declined");
      });
      const id = await bus.publish("pay.charge", { amount: 5 });
      await settled(bus, id, "dead");
      assert.equal(runs, 3);
      const record = (await bus.get(id))!;
      assert.equal(record.handlers.broken.status, "dead");
      assert.deepEqual(record.handlers.broken.error, { name: "TypeError", message: "card declined" });
      assert.equal(record.handlers.ok.status, "done");
      const page = await bus.deadLetters.list();
      assert.deepEqual(page.items.map((r) => r.id), [id]);
    }),
  );

  test(
    "replay runs only the failed handlers with fresh attempts; delete removes",
    withBus(o, {}, async (bus) => {
      let fixed = false;
      const seen: { handler: string; attempt: number }[] = [];
      bus.on("pay.charge", { id: "ok" }, (e) => void seen.push({ handler: "ok", attempt: e.attempt }));
      bus.on("pay.charge", { id: "flaky" }, (e) => {
        seen.push({ handler: "flaky", attempt: e.attempt });
        if (!fixed) throw new Error("down");
      });
      const id = await bus.publish("pay.charge", {});
      await settled(bus, id, "dead");
      fixed = true;
      seen.length = 0;
      assert.equal(await bus.deadLetters.replay(id), true);
      await settled(bus, id, "done");
      assert.deepEqual(seen, [{ handler: "flaky", attempt: 1 }]);
      assert.equal((await bus.get(id))!.handlers.flaky.attempts, 1);
      assert.equal(await bus.deadLetters.replay(id), false, "a done event is not a dead letter");
      assert.equal(await bus.deadLetters.delete(id), false);
      assert.equal(await bus.deadLetters.replay("no-such-event"), false);
    }),
  );

  test(
    "deadLetters.delete() removes a dead letter for good",
    withBus(o, {}, async (bus) => {
      bus.on("x.fail", () => {
        throw new NonRetriableError("never");
      });
      const id = await bus.publish("x.fail", {});
      await settled(bus, id, "dead");
      assert.equal(await bus.deadLetters.delete(id), true);
      assert.equal(await bus.get(id), undefined);
      assert.deepEqual((await bus.deadLetters.list()).items, []);
    }),
  );

  test(
    "NonRetriableError sends the event straight to dead letters",
    withBus(o, {}, async (bus) => {
      let runs = 0;
      bus.on("import.row", () => {
        runs++;
        throw new NonRetriableError("row is malformed");
      });
      const id = await bus.publish("import.row", {});
      const record = await settled(bus, id, "dead");
      assert.equal(runs, 1);
      assert.equal(record.attempt, 1);
    }),
  );

  test(
    "RetryAfterError sets the next attempt's time",
    withBus(o, {}, async (bus) => {
      const at: number[] = [];
      bus.on("api.call", (event) => {
        at.push(Date.now());
        if (event.attempt === 1) throw new RetryAfterError(300, "rate limited");
      });
      const id = await bus.publish("api.call", {});
      await settled(bus, id, "done");
      assert.equal(at.length, 2);
      assert.ok(at[1] - at[0] >= 295, `retried after ${at[1] - at[0]} ms, asked for 300`);
    }),
  );

  test(
    "a handler past its timeout fails and its signal aborts",
    withBus(o, { retry: { maxAttempts: 1 } }, async (bus) => {
      let aborted: unknown;
      bus.on("slow.job", { timeout: 100 }, async (_event, ctx) => {
        await new Promise<void>((resolve) => {
          ctx.signal.addEventListener("abort", () => {
            aborted = ctx.signal.reason;
            resolve();
          });
        });
        await new Promise((resolve) => setTimeout(resolve, 200));
      });
      const id = await bus.publish("slow.job", {});
      const record = await settled(bus, id, "dead");
      assert.equal(record.handlers["slow.job#1"].error?.name, "TimeoutError");
      assert.ok(aborted instanceof Error);
    }),
  );

  test(
    "ctx.setTimeout() extends a handler's time",
    withBus(o, {}, async (bus) => {
      bus.on("slow.job", { timeout: 50 }, async (_event, ctx) => {
        ctx.setTimeout(1_000);
        await new Promise((resolve) => setTimeout(resolve, 150));
      });
      const id = await bus.publish("slow.job", {});
      const record = await settled(bus, id, "done");
      assert.equal(record.attempt, 1);
    }),
  );
}
