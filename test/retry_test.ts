import assert from "node:assert/strict";
import { amptRetry, canRetry, defaultRetry, EdgebusError, nextDelay, resolveRetry } from "../mod.ts";
import { describe, test } from "./lib/t.ts";

describe("retry policy", () => {
  test("nextDelay() grows exponentially up to maxDelay", () => {
    const policy = resolveRetry({ jitter: 0, minDelay: 100, maxDelay: 1_000, multiplier: 3 });
    assert.deepEqual([1, 2, 3, 4, 5].map((a) => nextDelay(a, policy)), [100, 300, 900, 1_000, 1_000]);
  });

  test("jitter takes up to its fraction off, never adds", () => {
    const policy = resolveRetry({ jitter: 0.5, minDelay: 1_000, multiplier: 1, maxDelay: 1_000 });
    assert.equal(nextDelay(1, policy, 0), 1_000);
    assert.equal(nextDelay(1, policy, 0.999999), 500);
    for (let i = 0; i < 100; i++) {
      const d = nextDelay(1, policy);
      assert.ok(d >= 500 && d <= 1_000);
    }
  });

  test("huge attempt numbers stay at maxDelay", () => {
    assert.equal(nextDelay(5_000, { ...defaultRetry, jitter: 0 }), defaultRetry.maxDelay);
  });

  test("the Ampt preset retries every six minutes for 14 days", () => {
    assert.equal(nextDelay(1, amptRetry), 360_000);
    assert.equal(nextDelay(300, amptRetry), 360_000);
    const day = 86_400_000;
    assert.equal(canRetry(3_000, 13 * day, 0, amptRetry), true);
    assert.equal(canRetry(3_000, 14 * day + 1, 0, amptRetry), false);
  });

  test("canRetry() stops at maxAttempts and at maxAge", () => {
    const policy = resolveRetry({ maxAttempts: 3, maxAge: 10_000 });
    assert.equal(canRetry(2, 5_000, 0, policy), true);
    assert.equal(canRetry(3, 5_000, 0, policy), false);
    assert.equal(canRetry(1, 10_001, 0, policy), false);
  });

  test("resolveRetry() refuses out-of-range fields with a typed error", () => {
    const bad = [
      { maxAttempts: 0 },
      { maxAttempts: 1.5 },
      { minDelay: -1 },
      { maxDelay: 10, minDelay: 100 },
      { multiplier: 0.5 },
      { jitter: 2 },
      { maxAge: 0 },
    ];
    for (const fields of bad) {
      assert.throws(
        () => resolveRetry(fields),
        (e: unknown) =>
          e instanceof EdgebusError && e.code === "invalid_option" && e.message.startsWith("Invalid retry policy"),
        JSON.stringify(fields),
      );
    }
  });
});
