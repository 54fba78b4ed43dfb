import { HttpError } from "./http_error.ts";

/** Checks `Authorization: Bearer` headers against a set of tokens. */
export type BearerCheck = (header: string | undefined) => number;

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * Whether a presented token is a known one, in a time that depends on the presented token's
 * length only: every character of the guess is compared (against the known token read round
 * and round), with no early exit and no branch on the known token's content or length.
 */
function sameToken(presented: string, known: string): boolean {
  let diff = presented.length ^ known.length;
  for (let i = 0; i < presented.length; i++) diff |= presented.charCodeAt(i) ^ known.charCodeAt(i % known.length);
  return diff === 0;
}

/**
 * Makes a checker for bearer tokens. The presented token is compared with every known token
 * (there are at most a few: several allow rotation) in constant time for a given guess, so
 * neither where a guess differs, nor which token matched, nor how long the tokens are shows in
 * the timing. No digest is made: the comparison costs well under a microsecond.
 *
 * @param tokens the accepted tokens (several allow rotation), non-empty
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
  const known = [...tokens];
  return (header) => {
    const match = header === undefined ? null : BEARER.exec(header);
    if (!match) {
      throw new HttpError(401, "unauthorized", "Missing credentials: send Authorization: Bearer <token>", {
        "WWW-Authenticate": 'Bearer realm="edgebus"',
      });
    }
    const presented = match[1];
    let found = -1;
    for (let i = 0; i < known.length; i++) {
      if (sameToken(presented, known[i]) && found < 0) found = i;
    }
    if (found < 0) {
      throw new HttpError(403, "forbidden", "The bearer token is not accepted", {
        "WWW-Authenticate": 'Bearer realm="edgebus", error="invalid_token"',
      });
    }
    return found;
  };
}
