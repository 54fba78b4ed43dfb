import assert from "node:assert/strict";
import { createBus, EdgebusError, type ErrorCode, MAX_ENVELOPE_BYTES, RetryAfterError } from "../mod.ts";
import { describe, sleep, test } from "./lib/t.ts";

function refused(code: ErrorCode, fragment: string) {
  return (error: unknown) => {
    assert.ok(error instanceof EdgebusError, `expected an EdgebusError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.ok(error.message.includes(fragment), `message "${error.message}" lacks "${fragment}"`);
    assert.equal(error.name, "EdgebusError");
    return true;
  };
}

describe("publish() refuses bad input before anything is stored or delivered", () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const cases: [string, () => [string, ...unknown[]], ErrorCode, string][] = [
    [
      "an empty token in the name",
      () => ["user..joined", {}],
      "invalid_name",
      '"user..joined": the name has an empty token',
    ],
    ["a name over 256 characters", () => ["a".repeat(300), {}], "invalid_name", "300 characters long"],
    ["a space in the name", () => ["user joined", {}], "invalid_name", "use only letters"],
    ["a zero delay", () => ["x.y", { after: 0 }, {}], "invalid_delay", "greater than zero"],
    ["a negative delay", () => ["x.y", { after: -1 }, {}], "invalid_delay", "greater than zero"],
    ["a past date", () => ["x.y", { after: new Date(Date.now() - 1_000) }, {}], "invalid_delay", "not in the future"],
    ["more than a year", () => ["x.y", { after: "400 days" }, {}], "invalid_delay", "more than one year"],
    ["an unknown unit", () => ["x.y", { after: "2 parsecs" }, {}], "invalid_delay", 'unknown unit "parsec"'],
    ["garbage", () => ["x.y", { after: "next tuesday-ish" }, {}], "invalid_delay", "next tuesday-ish"],
    ["NaN", () => ["x.y", { after: NaN }, {}], "invalid_delay", "not a finite number"],
    ["a bad id", () => ["x.y", { id: "has space" }, {}], "invalid_id", '"has space"'],
    ["a function in the body", () => ["x.y", { f: () => 1 }], "not_serializable", "body.f is a function"],
    ["a BigInt in the body", () => ["x.y", { n: 10n }], "not_serializable", "body.n is a bigint"],
    ["a cycle in the body", () => ["x.y", cyclic], "not_serializable", "body.self refers to itself"],
    ["NaN in the body", () => ["x.y", [1, NaN]], "not_serializable", "body[1] is NaN"],
    ["a body nested 100,000 deep", () => ["x.y", deep], "not_serializable", "nests deeper than 256 levels"],
    ["a Map in the body", () => ["x.y", { m: new Map() }], "not_serializable", "body.m is a Map"],
    ["a body of 256 KiB", () => ["x.y", "x".repeat(MAX_ENVELOPE_BYTES)], "too_large", "must be below 262144"],
    ["options that are not an object", () => ["x.y", "1 day", {}], "invalid_option", "must be the options object"],
  ];
  for (const [what, args, code, fragment] of cases) {
    test(`refuses ${what}`, async () => {
      const bus = createBus();
      let runs = 0;
      bus.on(">", () => void runs++);
      const [name, ...rest] = args();
      // deno-lint-ignore no-explicit-any
      await assert.rejects((bus.publish as any)(name, ...rest), refused(code, fragment));
      await sleep(20);
      assert.equal(runs, 0, "a refused event was delivered");
      assert.deepEqual((await bus.list()).items, [], "a refused event was stored");
      await bus.stop();
    });
  }

  test("a body just under the limit is accepted", async () => {
    const bus = createBus();
    const id = await bus.publish("x.y", "x".repeat(MAX_ENVELOPE_BYTES - 400));
    assert.ok(await bus.get(id));
    await bus.stop();
  });

  test("publishBatch() refuses a non-array and stores nothing of a batch with one bad item", async () => {
    const bus = createBus();
    // deno-lint-ignore no-explicit-any
    await assert.rejects(bus.publishBatch("nope" as any), refused("invalid_option", "expected an array"));
    await assert.rejects(
      bus.publishBatch([{ name: "a.b", body: 1, id: "first" }, { name: "a.b", body: 2, after: "1 eon" }]),
      refused("invalid_delay", "1 eon"),
    );
    assert.equal(await bus.get("first"), undefined);
    await bus.stop();
  });
});

describe("options and queries are checked", () => {
  test("createBus() refuses bad options", () => {
    assert.throws(() => createBus({ timeout: 0 }), refused("invalid_option", "timeout for the bus"));
    assert.throws(() => createBus({ timeout: 2 ** 31 }), refused("invalid_option", "timeout for the bus"));
    assert.throws(() => createBus({ retry: { jitter: 3 } }), refused("invalid_option", "jitter"));
    assert.throws(() => createBus({ dedupWindow: -1 }), refused("invalid_option", "dedupWindow"));
    assert.throws(() => createBus({ batchConcurrency: 0 }), refused("invalid_option", "batchConcurrency"));
  });

  test("on() refuses bad patterns, duplicate ids, non-functions and bad timeouts", async () => {
    const bus = createBus();
    assert.throws(() => bus.on("a..b", () => {}), refused("invalid_pattern", '"a..b"'));
    bus.on("a.b", { id: "h" }, () => {});
    assert.throws(() => bus.on("a.c", { id: "h" }, () => {}), refused("duplicate_handler", 'handler "h"'));
    // deno-lint-ignore no-explicit-any
    assert.throws(() => bus.on("a.b", "nope" as any), refused("invalid_option", "expected a function"));
    assert.throws(() => bus.on("a.b", { timeout: -5 }, () => {}), refused("invalid_option", "got -5"));
    await bus.stop();
  });

  test("list() refuses bad limits, statuses, patterns and cursors", async () => {
    const bus = createBus();
    await assert.rejects(bus.list({ limit: 0 }), refused("invalid_option", "Invalid limit 0"));
    await assert.rejects(bus.list({ limit: 5_000 }), refused("invalid_option", "Invalid limit 5000"));
    // deno-lint-ignore no-explicit-any
    await assert.rejects(bus.list({ status: "lost" as any }), refused("invalid_option", '"lost"'));
    await assert.rejects(bus.list({ name: "a..b" }), refused("invalid_pattern", '"a..b"'));
    await assert.rejects(bus.list({ cursor: "garbage" }), refused("invalid_option", "Invalid cursor"));
    await bus.stop();
  });

  test("ctx.setTimeout() refuses a bad value inside the handler, failing that run", async () => {
    const bus = createBus({ retry: { maxAttempts: 1 } });
    bus.on("x.y", (_e, ctx) => ctx.setTimeout(-1));
    const id = await bus.publish("x.y", {});
    await sleep(50);
    const record = await bus.get(id);
    assert.equal(record?.status, "dead");
    assert.match(record?.handlers["x.y#1"].error?.message ?? "", /Invalid timeout for handler "x.y#1"/);
    await bus.stop();
  });
});

test("RetryAfterError refuses a delay it cannot read, naming it", () => {
  assert.throws(
    () => new RetryAfterError("soon-ish"),
    (e: unknown) => e instanceof EdgebusError && e.code === "invalid_delay" && /"soon-ish"/.test(e.message),
  );
  assert.throws(() => new RetryAfterError(-5), (e: unknown) => e instanceof EdgebusError && e.code === "invalid_delay");
  assert.equal(new RetryAfterError("30 seconds").after, "30 seconds");
});
