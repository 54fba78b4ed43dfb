import { EdgebusError } from "./errors.ts";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODES = Array.from(ALPHABET, (ch) => ch.charCodeAt(0));
const ASCII = new TextDecoder();
const ID = /^[A-Za-z0-9_.:-]{1,256}$/;

/**
 * Makes ids that sort by creation time (ULID layout: 10 characters of ms time, 16 random),
 * strictly increasing within one generator even inside one millisecond.
 *
 * @param now the clock
 * @returns a function returning a new id on each call
 *
 * @example
 * ```ts
 * import { idGenerator } from "@edgebus/edgebus/driver";
 * const next = idGenerator();
 * const [a, b] = [next(), next()];
 * console.log(a < b, a.length); // true 26
 * ```
 */
export function idGenerator(now: () => number = Date.now): () => string {
  let lastTime = -1;
  // Each character's place in the alphabet (time, then random), and the id as ASCII bytes:
  // decoded in one step, the id is a flat string. Built by concatenation it was a rope, which
  // the first map lookup had to flatten (about 0.2 µs an id on Bun).
  const random = new Uint8Array(16);
  const ascii = new Uint8Array(26);
  const put = (at: number, digit: number): void => void (ascii[at] = CODES[digit]);
  return () => {
    const time = Math.max(now(), lastTime);
    if (time === lastTime) {
      // Same millisecond: add one to the random part so the order holds.
      let i = 15;
      for (; i >= 0 && random[i] === 31; i--) put(10 + i, random[i] = 0);
      if (i >= 0) put(10 + i, ++random[i]);
    } else {
      crypto.getRandomValues(random);
      for (let i = 0; i < 16; i++) put(10 + i, random[i] &= 31);
      put(10, random[0] &= 15); // leaves room to count up within a millisecond
      lastTime = time;
      for (let t = time, i = 9; i >= 0; i--, t = Math.floor(t / 32)) put(i, t % 32);
    }
    return ASCII.decode(ascii);
  };
}

/**
 * Checks a caller-chosen event id (idempotency key): 1–256 characters of `[A-Za-z0-9_.:-]`.
 *
 * @param id the id to check
 * @throws {EdgebusError} code `invalid_id`
 *
 * @example
 * ```ts
 * import { assertId } from "@edgebus/edgebus";
 * assertId("join-2b6m"); // fine
 * ```
 */
export function assertId(id: unknown): asserts id is string {
  if (typeof id !== "string" || !ID.test(id)) {
    throw new EdgebusError(
      "invalid_id",
      `Invalid event id ${JSON.stringify(id) ?? String(id)}: use 1 to 256 characters of letters, digits and _ . : -`,
    );
  }
}
