import assert from "node:assert/strict";
import fc from "fast-check";
import { sha256 } from "../../adapters/hono/sha256.ts";
import { describe, test } from "../lib/t.ts";

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

describe("hono sha256", () => {
  test("matches the published test vectors", () => {
    const text = (s: string): Uint8Array => new TextEncoder().encode(s);
    assert.equal(hex(sha256(text(""))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert.equal(hex(sha256(text("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(
      hex(sha256(text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  test("agrees with crypto.subtle.digest on random inputs of every block boundary", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (data) => {
        const expected = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
        assert.equal(hex(sha256(data)), hex(expected));
      }),
      { numRuns: 300 },
    );
  });
});
