import assert from "node:assert/strict";
import { EdgebusError, latestDue, ONE_YEAR_MS, parseAfter } from "../mod.ts";
import { describe, test } from "./lib/t.ts";

const now = Date.UTC(2026, 0, 31, 12, 0, 0);
const invalidDelay = (fragment: string) => (error: unknown) =>
  error instanceof EdgebusError && error.code === "invalid_delay" && error.message.includes(fragment);

describe("parseAfter()", () => {
  test("reads a number of ms as a delay", () => {
    assert.equal(parseAfter(1, now), now + 1);
    assert.equal(parseAfter(5_000, now), now + 5_000);
    assert.equal(parseAfter(1.2, now), now + 2, "fractions round up so nothing arrives early");
    assert.equal(parseAfter(ONE_YEAR_MS, now), now + ONE_YEAR_MS);
  });

  test("reads a number larger than a year of ms as an epoch timestamp", () => {
    const at = now + 86_400_000;
    assert.equal(parseAfter(at, now), at);
  });

  test("reads an ISO-8601 string and a Date", () => {
    assert.equal(parseAfter("2026-02-01T00:00:00.000Z", now), Date.UTC(2026, 1, 1));
    assert.equal(parseAfter("2026-02-01T02:00:00+02:00", now), Date.UTC(2026, 1, 1));
    assert.equal(parseAfter(new Date(now + 1_000), now), now + 1_000);
  });

  test('reads "<n> <unit>" in every unit, singular or plural', () => {
    const cases: [string, number][] = [
      ["1 second", 1_000],
      ["30 seconds", 30_000],
      ["1 minute", 60_000],
      ["2 hours", 7_200_000],
      ["1 day", 86_400_000],
      ["1 days", 86_400_000],
      ["1.5 hours", 5_400_000],
      ["2 weeks", 14 * 86_400_000],
      ["3 Days", 3 * 86_400_000],
    ];
    for (const [text, ms] of cases) assert.equal(parseAfter(text, now) - now, ms, text);
  });

  test("computes months and years on the UTC calendar", () => {
    assert.equal(new Date(parseAfter("1 month", now)).toISOString(), "2026-02-28T12:00:00.000Z");
    assert.equal(new Date(parseAfter("2 months", now)).toISOString(), "2026-03-31T12:00:00.000Z");
    assert.equal(new Date(parseAfter("1 year", now)).toISOString(), "2027-01-31T12:00:00.000Z");
    assert.equal(parseAfter("1 year", now), latestDue(now));
  });

  test("refuses zero, negative and non-finite numbers", () => {
    assert.throws(() => parseAfter(0, now), invalidDelay("greater than zero"));
    assert.throws(() => parseAfter(-5, now), invalidDelay("greater than zero"));
    assert.throws(() => parseAfter(NaN, now), invalidDelay("after NaN: not a finite number"));
    assert.throws(() => parseAfter(Infinity, now), invalidDelay("not a finite number"));
  });

  test("refuses past dates and times more than a year ahead", () => {
    assert.throws(() => parseAfter("2020-01-01T00:00:00Z", now), invalidDelay("not in the future"));
    assert.throws(() => parseAfter(new Date(now), now), invalidDelay("not in the future"));
    assert.throws(() => parseAfter(now - 1, now), invalidDelay("not in the future"));
    assert.throws(() => parseAfter("13 months", now), invalidDelay("more than one year"));
    assert.throws(() => parseAfter("2 years", now), invalidDelay("more than one year"));
    assert.throws(() => parseAfter(latestDue(now) + 1, now), invalidDelay("more than one year"));
    assert.throws(() => parseAfter("0 seconds", now), invalidDelay("not in the future"));
  });

  test("refuses unknown units, garbage and wrong types, naming the value", () => {
    assert.throws(() => parseAfter("3 fortnights", now), invalidDelay('unknown unit "fortnight"'));
    assert.throws(() => parseAfter("soon", now), invalidDelay('"soon"'));
    assert.throws(() => parseAfter("", now), invalidDelay('expected "<n> <unit>"'));
    assert.throws(() => parseAfter("1.5 months", now), invalidDelay("whole number"));
    assert.throws(() => parseAfter("2026-13-45T00:00:00Z", now), invalidDelay("not a valid date"));
    assert.throws(() => parseAfter(new Date("nope"), now), invalidDelay("not a valid date"));
    assert.throws(() => parseAfter({} as unknown as string, now), invalidDelay("got object"));
  });
});
