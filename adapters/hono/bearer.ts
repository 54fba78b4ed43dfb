import { timingSafeEqual } from "./crypto.ts";
import { HttpError } from "./http_error.ts";
import { sha256 } from "@noble/hashes/sha2.js";

/** Checks `Authorization: Bearer` headers against a set of tokens. */
export type BearerCheck = (header: string | undefined) => number;

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const encoder = new TextEncoder();

/**
 * Makes a checker for bearer tokens. The presented token and each known token are compared as
 * SHA-256 digests (the audited `@noble/hashes`, synchronous and about 1 µs a token), byte by byte without an early exit, and every known token is compared, so
 * neither where a guess differs nor which token matched shows in the timing.
 *
 * @param tokens the accepted tokens (several allow rotation)
 * @returns a function answering the index of the matching token
 * @throws {HttpError} from the returned function: 401 `unauthorized` when the header is
 * missing or not a bearer token, 403 `forbidden` when the token is not one of `tokens`
 *
 * @example
 * ```ts
 * import { bearerCheck } from "./bearer.ts";
 * const check = bearerCheck(["new-token", "old-token"]);
 * console.log(check("Bearer old-token")); // 1
 * ```
 */
export function bearerCheck(tokens: readonly string[]): BearerCheck {
  const digests = tokens.map((token) => sha256(encoder.encode(token)));
  return (header) => {
    const match = header === undefined ? null : BEARER.exec(header);
    if (!match) {
      throw new HttpError(401, "unauthorized", "Missing credentials: send Authorization: Bearer <token>", {
        "WWW-Authenticate": 'Bearer realm="edgebus"',
      });
    }
    const presented = sha256(encoder.encode(match[1]));
    let found = -1;
    digests.forEach((digest, i) => {
      if (timingSafeEqual(digest, presented) && found < 0) found = i;
    });
    if (found < 0) {
      throw new HttpError(403, "forbidden", "The bearer token is not accepted", {
        "WWW-Authenticate": 'Bearer realm="edgebus", error="invalid_token"',
      });
    }
    return found;
  };
}
