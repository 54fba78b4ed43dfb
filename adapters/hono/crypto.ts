const encoder = new TextEncoder();

/**
 * Imports a secret as an HMAC-SHA256 key.
 *
 * @param secret the secret, as text or bytes
 * @returns the key, usable to sign only
 *
 * @example
 * ```ts
 * import { hmacKey, hmacSha256 } from "./crypto.ts";
 * const mac = await hmacSha256(await hmacKey("s3cret"), "hello");
 * console.log(mac.length); // 32
 * ```
 */
export function hmacKey(secret: string | Uint8Array): Promise<CryptoKey> {
  const bytes = typeof secret === "string" ? encoder.encode(secret) : secret;
  return crypto.subtle.importKey("raw", bytes as Uint8Array<ArrayBuffer>, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
}

/**
 * HMAC-SHA256 of some bytes (text is UTF-8 encoded).
 *
 * @param key a key from {@linkcode hmacKey}
 * @param data what to sign
 * @returns the 32-byte MAC
 *
 * @example
 * ```ts
 * import { hmacKey, hmacSha256 } from "./crypto.ts";
 * console.log((await hmacSha256(await hmacKey("k"), new Uint8Array([1, 2]))).length); // 32
 * ```
 */
export async function hmacSha256(key: CryptoKey, data: string | Uint8Array): Promise<Uint8Array> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, bytes as Uint8Array<ArrayBuffer>));
}

/**
 * Compares two byte arrays in time that depends only on their lengths, not on where they
 * differ. Callers compare fixed-length digests, so the length itself reveals nothing.
 *
 * @param a the first array
 * @param b the second array
 * @returns true when both hold the same bytes
 *
 * @example
 * ```ts
 * import { timingSafeEqual } from "./crypto.ts";
 * console.log(timingSafeEqual(new Uint8Array([1]), new Uint8Array([1]))); // true
 * ```
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * Lower-case hex of some bytes.
 *
 * @param bytes the bytes
 * @returns two hex digits a byte
 *
 * @example
 * ```ts
 * import { toHex } from "./crypto.ts";
 * console.log(toHex(new Uint8Array([255, 1]))); // "ff01"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

/**
 * Reads lower- or upper-case hex into bytes.
 *
 * @param hex the text
 * @returns the bytes, or `undefined` when the text is not hex of whole bytes
 *
 * @example
 * ```ts
 * import { fromHex } from "./crypto.ts";
 * console.log(fromHex("ff01")); // Uint8Array [255, 1]
 * ```
 */
export function fromHex(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
