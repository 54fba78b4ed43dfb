import { hmacKey, hmacSha256, timingSafeEqual } from "./crypto.ts";
import { HttpError } from "./http_error.ts";

/** Checks `Authorization: Bearer` headers against a set of tokens. */
export type BearerCheck = (header: string | undefined) => Promise<number>;

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * Makes a checker for bearer tokens. Each presented token and each known token is reduced to
 * an HMAC under a random per-router key, and every known token is compared, so neither the
 * position of the first differing byte nor which token matched shows in the timing.
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
 * console.log(await check("Bearer old-token")); // 1
 * ```
 */
export function bearerCheck(tokens: readonly string[]): BearerCheck {
  const ready = (async () => {
    const key = await hmacKey(crypto.getRandomValues(new Uint8Array(32)));
    return { key, digests: await Promise.all(tokens.map((token) => hmacSha256(key, token))) };
  })();
  return async (header) => {
    const match = header === undefined ? null : BEARER.exec(header);
    if (!match) {
      throw new HttpError(401, "unauthorized", "Missing credentials: send Authorization: Bearer <token>", {
        "WWW-Authenticate": 'Bearer realm="edgebus"',
      });
    }
    const { key, digests } = await ready;
    const presented = await hmacSha256(key, match[1]);
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
