import { EdgebusError } from "./errors.ts";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
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
  // The id but its last character: rebuilt on a new millisecond or when counting up carries.
  let head = "";
  const random = new Uint8Array(16);
  const rebuild = (time: number): void => {
    let out = "";
    for (let t = time, i = 0; i < 10; i++, t = Math.floor(t / 32)) out = ALPHABET[t % 32] + out;
    for (let i = 0; i < 15; i++) out += ALPHABET[random[i]];
    head = out;
  };
  return () => {
    const time = Math.max(now(), lastTime);
    if (time === lastTime) {
      // Same millisecond: add one to the random part so the order holds.
      let i = 15;
      while (i >= 0 && random[i] === 31) random[i--] = 0;
      if (i >= 0) random[i]++;
      if (i < 15) rebuild(time);
    } else {
      crypto.getRandomValues(random);
      for (let i = 0; i < 16; i++) random[i] &= 31;
      random[0] &= 15; // leaves room to count up within a millisecond
      lastTime = time;
      rebuild(time);
    }
    return head + ALPHABET[random[15]];
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
