import assert from "node:assert/strict";
import fc from "fast-check";
import { createEnvelope, envelopeJson } from "../driver/mod.ts";
import { EdgebusError, MAX_ENVELOPE_BYTES } from "../mod.ts";
import { describe, test } from "./lib/t.ts";

// Drivers send `envelopeJson(envelope)`: for a fresh envelope it is the text the size check made,
// which must be exactly what JSON.stringify of the envelope gives (what readers parse).
describe("envelopeJson()", () => {
  test("is the envelope's JSON for any body, id, correlation and origin", () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/);
    fc.assert(
      fc.property(
        // Bodies of 4 KiB and more are written around the text the size check made; smaller ones
        // are stringified again: both ways must give the same JSON.
        fc.tuple(fc.jsonValue(), fc.boolean()).map(([v, big]) => big ? { v, pad: 'é"x'.repeat(2_000) } : v),
        fc.option(id, { nil: undefined }),
        // A causation id is not checked as ids are (a driver may carry one from elsewhere).
        fc.option(fc.string(), { nil: undefined }),
        fc.option(fc.stringMatching(/^[\x20-\x7e]{1,30}$/), { nil: undefined }),
        (body, correlationId, causationId, origin) => {
          const envelope = createEnvelope(
            { name: "user.joined", body, after: 5, correlationId, causationId, origin },
            1_000,
            () => "generated-id",
          );
          assert.equal(envelopeJson(envelope), JSON.stringify(envelope));
        },
      ),
      { numRuns: 500 },
    );
  });

  test("a body of undefined is sent as null, and an envelope made elsewhere is stringified", () => {
    const envelope = createEnvelope({ name: "a.b" }, 0, () => "e-1");
    assert.equal(JSON.parse(envelopeJson(envelope)).body, null);
    const copy = { ...envelope, attempt: 2 };
    assert.equal(envelopeJson(copy), JSON.stringify(copy));
  });

  test("the size limit counts the envelope's JSON to the byte", () => {
    // A body one character below the limit passes and one more is refused, whatever the fields.
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z]{1,20}(\.[a-z]{1,20}){0,3}$/),
        fc.option(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,60}$/), { nil: undefined }),
        fc.option(fc.string(), { nil: undefined }),
        fc.option(fc.stringMatching(/^[\x20-\x7e]{1,40}$/), { nil: undefined }),
        fc.integer({ min: 0, max: 10 ** 12 }),
        fc.option(fc.integer({ min: 1, max: 31_536_000_000 }), { nil: undefined }),
        (name, correlationId, causationId, origin, now, after) => {
          const draft = { name, correlationId, causationId, origin, after };
          const probe = createEnvelope({ ...draft, body: "" }, now, () => "0123456789ABCDEFGHJKMNPQRS");
          const room = MAX_ENVELOPE_BYTES - 1 - JSON.stringify(probe).length;
          const fits = createEnvelope({ ...draft, body: "x".repeat(room) }, now, () => "0123456789ABCDEFGHJKMNPQRS");
          assert.equal(JSON.stringify(fits).length, MAX_ENVELOPE_BYTES - 1);
          assert.throws(
            () => createEnvelope({ ...draft, body: "x".repeat(room + 1) }, now, () => "0123456789ABCDEFGHJKMNPQRS"),
            (error: unknown) => error instanceof EdgebusError && error.code === "too_large",
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a body holding `"body":null` or `$` patterns is copied as it is', () => {
    const body = { note: '"body":null', nested: { body: null }, dollars: "$$ $& $' $`" };
    const envelope = createEnvelope({ name: "a.b", body }, 0, () => "e-2");
    assert.deepEqual(JSON.parse(envelopeJson(envelope)).body, body);
    assert.equal(envelopeJson(envelope), JSON.stringify(envelope));
  });
});
