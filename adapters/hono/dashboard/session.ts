import { bearerCheck } from "../bearer.ts";
import { fromHex, hmacKey, hmacSha256, timingSafeEqual, toHex } from "../crypto.ts";

/** A signed-in viewer: which token signed in, and the CSRF token of the session. */
export interface Session {
  /** The cookie value, to set again. */
  readonly cookie: string;
  /** What every form that changes state must carry back. */
  readonly csrf: string;
}

/** Signs sessions in and checks them. */
export interface Sessions {
  /** The cookie value of a new session for a presented token; throws the bearer check's 401/403. */
  signIn(token: string): Promise<string>;
  /** The session a cookie holds, or `undefined` when it is missing, forged or expired. */
  read(cookie: string | undefined): Promise<Session | undefined>;
}

const VERSION = "s1";

/**
 * Sessions of a dashboard whose viewers sign in with one of `tokens`. The cookie holds the
 * token's position, an expiry and an HMAC of both keyed by the token: no token in clear, nothing
 * stored on the server, and valid in every isolate or process that has the same tokens. Taking
 * a token out of `tokens` ends its sessions. The CSRF token is an HMAC of the cookie under the
 * same key, so it is per session and cannot be made without the token.
 *
 * @param tokens the accepted tokens
 * @param ttl how long a session lasts, ms
 * @param now the clock
 * @returns the sessions
 */
export function tokenSessions(tokens: readonly string[], ttl: number, now: () => number): Sessions {
  const check = bearerCheck(tokens);
  const keys = tokens.map((token) => hmacKey(`edgebus-dashboard:${token}`));
  const mac = async (index: number, data: string) => toHex(await hmacSha256(await keys[index], data));
  return {
    async signIn(token) {
      const index = check(`Bearer ${token}`);
      const expires = now() + ttl;
      return `${VERSION}.${index}.${expires}.${await mac(index, `session.${index}.${expires}`)}`;
    },
    async read(cookie) {
      const [version, i, e, presented] = cookie?.split(".") ?? [];
      const index = Number(i);
      const expires = Number(e);
      if (version !== VERSION || !Number.isInteger(index) || index < 0 || index >= tokens.length) return undefined;
      if (!Number.isInteger(expires) || expires <= now()) return undefined;
      const expected = fromHex(await mac(index, `session.${index}.${expires}`))!;
      const given = fromHex(presented ?? "");
      if (!given || !timingSafeEqual(expected, given)) return undefined;
      return { cookie: cookie!, csrf: await mac(index, `csrf.${cookie}`) };
    },
  };
}

/**
 * Compares a presented CSRF token with the expected one in constant time.
 *
 * @param expected the session's token
 * @param presented what the form carried
 * @returns true when they match
 */
export function csrfMatches(expected: string, presented: unknown): boolean {
  if (typeof presented !== "string") return false;
  const [a, b] = [fromHex(expected), fromHex(presented)];
  return a !== undefined && b !== undefined && a.length > 0 && timingSafeEqual(a, b);
}

/**
 * A fresh random CSRF token, for dashboards without sign-in (a double-submit cookie).
 *
 * @returns 32 hex digits
 */
export function randomCsrf(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(16)));
}
