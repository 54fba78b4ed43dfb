import assert from "node:assert/strict";
import fc from "fast-check";
import { createEnvelope, envelopeJson } from "../driver/mod.ts";
import { describe, test } from "./lib/t.ts";

// Drivers send `envelopeJson(envelope)`: for a fresh envelope it is the text the size check made,
// which must be exactly what JSON.stringify of the envelope gives (what readers parse).
describe("envelopeJson()", () => {
  test("is the envelope's JSON for any body, id, correlation and origin", () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/);
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.option(id, { nil: undefined }),
        fc.option(id, { nil: undefined }),
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

  test('a body holding `"body":null` or `$` patterns is copied as it is', () => {
    const body = { note: '"body":null', nested: { body: null }, dollars: "$$ $& $' $`" };
    const envelope = createEnvelope({ name: "a.b", body }, 0, () => "e-2");
    assert.deepEqual(JSON.parse(envelopeJson(envelope)).body, body);
    assert.equal(envelopeJson(envelope), JSON.stringify(envelope));
  });
});
