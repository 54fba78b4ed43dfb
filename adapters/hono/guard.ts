import type { MiddlewareHandler } from "hono";
import { assertJsonType, readBody } from "./body.ts";
import type { BearerCheck } from "./bearer.ts";
import type { RateLimiter } from "./rate_limit.ts";
import { SIGNATURE_HEADER, type SignatureCheck } from "./signature.ts";

/** The Hono environment of the router: the raw body the guard has read. */
export interface RouterEnv {
  /** Values the guard hands to the routes. */
  Variables: {
    /** The request body as received, already size-checked and authenticated. */
    rawBody: Uint8Array;
  };
}

/** The checks a protected route runs, each present when configured. */
export interface GuardChecks {
  /** Bearer tokens. */
  readonly bearer?: BearerCheck;
  /** Body signatures. */
  readonly signature?: SignatureCheck;
  /** The rate limit. */
  readonly limit?: RateLimiter;
}

const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * The middleware in front of each protected route: the bearer token (401/403), then for routes
 * with a body the content type (415) and the size while reading (413), then the signature over
 * the raw bytes (401/403), then the rate limit (429). Nothing after it runs on a refusal.
 *
 * @param checks the configured checks
 * @param withBody whether the route takes a JSON body
 * @returns the middleware
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { guard, type RouterEnv } from "./guard.ts";
 * const app = new Hono<RouterEnv>().post("/x", guard({}, true), (c) => c.json({ bytes: c.get("rawBody").length }));
 * console.log((await app.request("/x", { method: "POST", body: "{}", headers: { "content-type": "application/json" } })).status); // 200
 * ```
 */
export function guard(checks: GuardChecks, withBody: boolean): MiddlewareHandler<RouterEnv> {
  const { bearer, signature, limit } = checks;
  return async (c, next) => {
    const client = bearer ? `token:${bearer(c.req.header("authorization"))}` : "anonymous";
    let raw: Uint8Array = EMPTY;
    if (withBody) {
      assertJsonType(c.req.header("content-type"));
      raw = await readBody(c.req.raw);
    }
    if (signature) await signature(c.req.header(SIGNATURE_HEADER), raw);
    limit?.(client);
    c.set("rawBody", raw);
    await next();
  };
}
