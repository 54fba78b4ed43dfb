import assert from "node:assert/strict";
import { assertId, assertName, EdgebusError } from "../mod.ts";
import { compilePattern, idGenerator } from "../driver/mod.ts";
import { describe, test } from "./lib/t.ts";

describe("names, patterns and ids", () => {
  test("assertName() accepts the allowed alphabet and refuses the rest with the reason", () => {
    for (const ok of ["a", "user.joined", "billing:v2.invoice-paid", "x_y.z", "a".repeat(256)]) assertName(ok);
    const cases: [unknown, string][] = [
      ["", "it is empty"],
      ["user..joined", "the name has an empty token"],
      [".user", "the name has an empty token"],
      ["user.", "the name has an empty token"],
      ["user joined", "use only letters"],
      ["user/joined", "use only letters"],
      ["a".repeat(257), "257 characters long"],
      [42, "must be a string"],
    ];
    for (const [name, why] of cases) {
      assert.throws(
        () => assertName(name),
        (e: unknown) => e instanceof EdgebusError && e.code === "invalid_name" && e.message.includes(why),
        String(name),
      );
    }
  });

  test("compilePattern() matches NATS-style * and >", () => {
    const star = compilePattern("user.*");
    assert.equal(star("user.joined"), true);
    assert.equal(star("user"), false);
    assert.equal(star("user.a.b"), false);
    const rest = compilePattern("billing.>");
    assert.equal(rest("billing.invoice"), true);
    assert.equal(rest("billing.invoice.paid"), true);
    assert.equal(rest("billing"), false);
    const mid = compilePattern("*.joined");
    assert.equal(mid("user.joined"), true);
    assert.equal(mid("user.left"), false);
    assert.equal(compilePattern(">")("anything.at.all"), true);
    assert.equal(compilePattern("exact.name")("exact.name"), true);
    assert.equal(compilePattern("exact.name")("exact.names"), false);
  });

  test("compilePattern() refuses malformed patterns", () => {
    for (const bad of ["", "a..b", "a.>.b", "a.b*", "a b"]) {
      assert.throws(
        () => compilePattern(bad),
        (e: unknown) => e instanceof EdgebusError && e.code === "invalid_pattern",
        bad,
      );
    }
  });

  test("idGenerator() makes unique ids that sort by time, even within one millisecond", () => {
    let clock = 1_700_000_000_000;
    const next = idGenerator(() => clock);
    // 40,000 in one millisecond: counting up carries through the last three characters.
    const ids = Array.from({ length: 40_000 }, () => next());
    clock += 1;
    ids.push(next());
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), ids);
    assert.ok(ids.every((id) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)));
    const other = idGenerator(() => clock - 1)();
    assert.ok(other < ids[ids.length - 1]);
    // The first ten characters are the time in ms, base 32.
    const timeOf = (id: string): number =>
      [...id.slice(0, 10)].reduce((t, ch) => t * 32 + "0123456789ABCDEFGHJKMNPQRSTVWXYZ".indexOf(ch), 0);
    assert.deepEqual([timeOf(ids[0]), timeOf(ids[ids.length - 1]), timeOf(other)], [clock - 1, clock, clock - 1]);
  });

  test("assertId() refuses ids outside 1-256 characters of [A-Za-z0-9_.:-]", () => {
    for (const ok of ["join-2b6m", "a:b.c_d", "x".repeat(256)]) assertId(ok);
    for (const bad of ["", "has space", "x".repeat(257), "ünïcode", 7]) {
      assert.throws(
        () => assertId(bad),
        (e: unknown) => e instanceof EdgebusError && e.code === "invalid_id",
        String(bad),
      );
    }
  });
});
