const encoder = new TextEncoder();

/** A secret ready to sign with HMAC-SHA256. */
export interface HmacKey {
  /** The 32-byte MAC of some bytes: at once where the runtime signs synchronously, else a promise. */
  sign(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

interface NodeHmac {
  createHmac(algorithm: string, key: Uint8Array): { update(data: Uint8Array): { digest(): Uint8Array } };
}

/**
 * `node:crypto`'s synchronous HMAC, where the runtime has it (Node, Bun, Deno, Workers with
 * `nodejs_compat`), found through `process.getBuiltinModule` so that nothing is imported where
 * it is missing. A request's signature check then costs about a microsecond on Bun and two on
 * Node, where WebCrypto's asynchronous `sign` takes 35–50 µs one at a time (it hands the work
 * to another thread). Elsewhere, and on Deno, WebCrypto. Looked up on the first key, so that
 * a router without signing secrets loads nothing.
 */
let nodeCrypto: NodeHmac | undefined | null = null;
function findNodeCrypto(): NodeHmac | undefined {
  if (nodeCrypto !== null) return nodeCrypto;
  // Deno's `node:crypto` makes a Buffer per digest through a slow pool (about 10 µs a MAC, no
  // faster than its WebCrypto under load): WebCrypto there.
  if ("Deno" in globalThis) return nodeCrypto = undefined;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    const module = proc?.getBuiltinModule?.("node:crypto") as Partial<NodeHmac> | undefined;
    return nodeCrypto = typeof module?.createHmac === "function" ? module as NodeHmac : undefined;
  } catch {
    return nodeCrypto = undefined;
  }
}

/** Whether signatures use `node:crypto` here (for tests). */
export const usesNodeCrypto = (): boolean => findNodeCrypto() !== undefined;

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
export async function hmacKey(secret: string | Uint8Array): Promise<HmacKey> {
  const bytes = typeof secret === "string" ? encoder.encode(secret) : secret;
  const node = findNodeCrypto();
  if (node) {
    const { createHmac } = node;
    return { sign: (data) => createHmac("sha256", bytes).update(data).digest() };
  }
  const key = await crypto.subtle.importKey(
    "raw",
    bytes as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return {
    sign: async (data) => new Uint8Array(await crypto.subtle.sign("HMAC", key, data as Uint8Array<ArrayBuffer>)),
  };
}

/**
 * HMAC-SHA256 of some bytes (text is UTF-8 encoded).
 *
 * @param key a key from {@linkcode hmacKey}
 * @param data what to sign
 * @returns the 32-byte MAC, at once when the runtime signs synchronously
 *
 * @example
 * ```ts
 * import { hmacKey, hmacSha256 } from "./crypto.ts";
 * console.log((await hmacSha256(await hmacKey("k"), new Uint8Array([1, 2]))).length); // 32
 * ```
 */
export function hmacSha256(key: HmacKey, data: string | Uint8Array): Uint8Array | Promise<Uint8Array> {
  return key.sign(typeof data === "string" ? encoder.encode(data) : data);
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
  if (hex.length % 2 !== 0) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const high = nibble(hex.charCodeAt(2 * i));
    const low = nibble(hex.charCodeAt(2 * i + 1));
    if (high < 0 || low < 0) return undefined;
    out[i] = high * 16 + low;
  }
  return out;
}

/** A hex digit's value, or -1. */
function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  const lower = code | 32;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1; // a-f, A-F
}
