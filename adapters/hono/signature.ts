import { fromHex, type HmacKey, hmacKey, hmacSha256, timingSafeEqual, toHex } from "./crypto.ts";
import { HttpError } from "./http_error.ts";

/** The header carrying a body signature. */
export const SIGNATURE_HEADER = "Edgebus-Signature";

/** How far a signature's timestamp may be from the server's clock, in seconds. */
export const SIGNATURE_TOLERANCE_S = 300;

const encoder = new TextEncoder();

/** `<time>.<body>` as bytes; the time's digits are written as they are (ASCII), without an encoder. */
function signedBytes(time: number, body: Uint8Array): Uint8Array {
  const prefix = `${time}.`;
  const out = new Uint8Array(prefix.length + body.length);
  for (let i = 0; i < prefix.length; i++) out[i] = prefix.charCodeAt(i);
  out.set(body, prefix.length);
  return out;
}

/**
 * Signs a request body the way the router checks it: `t=<unix s>,v1=<hex HMAC-SHA256 of
 * "<t>.<raw body>">`. Send the result as the `Edgebus-Signature` header, with the exact bytes
 * that were signed as the body.
 *
 * @param secret one of the router's `signingSecrets`
 * @param body the raw body (text is UTF-8 encoded); empty for requests without a body
 * @param time the signing time, epoch ms
 * @returns the header value
 *
 * @example Sign a publish
 * ```ts
 * import { signBody } from "./mod.ts";
 * const body = JSON.stringify({ user_id: "2b6m" });
 * const headers = {
 *   "Content-Type": "application/json",
 *   "Edgebus-Signature": await signBody("whsec_123", body),
 * };
 * console.log(headers["Edgebus-Signature"].startsWith("t=")); // true
 * ```
 */
export async function signBody(
  secret: string,
  body: string | Uint8Array = "",
  time: number = Date.now(),
): Promise<string> {
  const seconds = Math.floor(time / 1000);
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const mac = await hmacSha256(await hmacKey(secret), signedBytes(seconds, bytes));
  return `t=${seconds},v1=${toHex(mac)}`;
}

interface Parsed {
  readonly time: number;
  readonly macs: Uint8Array[];
}

function parse(header: string): Parsed | undefined {
  let time: number | undefined;
  const macs: Uint8Array[] = [];
  for (const part of header.split(",")) {
    const [key, value = ""] = part.trim().split("=", 2);
    if (key === "t" && /^\d{1,12}$/.test(value)) time = Number(value);
    if (key === "v1") {
      const mac = fromHex(value);
      if (mac?.length === 32) macs.push(mac);
    }
  }
  return time === undefined || macs.length === 0 ? undefined : { time, macs };
}

/** Verifies the signature header of a request against its raw body. */
export type SignatureCheck = (header: string | undefined, body: Uint8Array) => Promise<void>;

/**
 * Makes a checker for `Edgebus-Signature` headers. Every secret is tried (several allow
 * rotation), every `v1` entry is compared in constant time, and the timestamp must lie within
 * 300 s of `now`, so a captured request cannot be replayed later.
 *
 * @param secrets the accepted signing secrets
 * @param now the clock, epoch ms
 * @returns the checker
 * @throws {HttpError} from the returned function: 401 `unauthorized` when the header is
 * missing, 403 `forbidden` when it is malformed, too old or too new, or matches no secret
 *
 * @example
 * ```ts
 * import { signatureCheck } from "./signature.ts";
 * import { signBody } from "./mod.ts";
 * const check = signatureCheck(["whsec_123"]);
 * const body = new TextEncoder().encode("{}");
 * await check(await signBody("whsec_123", body), body); // resolves: the signature is good
 * ```
 */
export function signatureCheck(secrets: readonly string[], now: () => number = Date.now): SignatureCheck {
  const imported = Promise.all(secrets.map((secret) => hmacKey(secret)));
  let keys: readonly HmacKey[] | undefined;
  return async (header, body) => {
    if (header === undefined) {
      throw new HttpError(401, "unauthorized", `Missing credentials: send ${SIGNATURE_HEADER}: t=<unix s>,v1=<hex>`, {
        "WWW-Authenticate": `${SIGNATURE_HEADER} realm="edgebus"`,
      });
    }
    const parsed = parse(header);
    if (!parsed) {
      throw new HttpError(403, "forbidden", `Malformed ${SIGNATURE_HEADER}: expected t=<unix s>,v1=<64 hex digits>`);
    }
    const skew = Math.abs(now() / 1000 - parsed.time);
    if (skew > SIGNATURE_TOLERANCE_S) {
      throw new HttpError(
        403,
        "forbidden",
        `The ${SIGNATURE_HEADER} timestamp ${parsed.time} is ${
          Math.round(skew)
        } s from the server's clock (at most ${SIGNATURE_TOLERANCE_S})`,
      );
    }
    const data = signedBytes(parsed.time, body);
    let ok = false;
    keys ??= await imported;
    for (const key of keys) {
      const signed = hmacSha256(key, data);
      const expected = signed instanceof Promise ? await signed : signed;
      for (const mac of parsed.macs) ok = timingSafeEqual(expected, mac) || ok;
    }
    if (!ok) {
      throw new HttpError(403, "forbidden", `The ${SIGNATURE_HEADER} does not match the body for any signing secret`);
    }
  };
}
