import { HttpError } from "./http_error.ts";

/** Options of the per-client rate limit. */
export interface RateLimitOptions {
  /** Requests allowed per `window` (also the burst size). */
  readonly limit: number;
  /** The window, ms. @default {60000} */
  readonly window?: number;
}

/** Takes one request from a client's budget, or throws 429. */
export type RateLimiter = (key: string) => void;

interface Bucket {
  tokens: number;
  at: number;
}

const MAX_BUCKETS = 10_000;

/**
 * Makes an in-memory token bucket per client key: each holds up to `limit` requests and refills
 * at `limit` per `window`. The buckets live in this router only, so the limit is per process
 * (per isolate on Workers), not global.
 *
 * @param options the limit and window
 * @param now the clock, epoch ms
 * @returns a function taking one request for a key
 * @throws {RangeError} when `limit` or `window` is not a positive number
 * @throws {HttpError} from the returned function: 429 `rate_limited` with `Retry-After`
 *
 * @example
 * ```ts
 * import { rateLimiter } from "./rate_limit.ts";
 * const take = rateLimiter({ limit: 2, window: 1000 });
 * take("token-0");
 * take("token-0"); // a third call within the second throws a 429
 * ```
 */
export function rateLimiter(options: RateLimitOptions, now: () => number = Date.now): RateLimiter {
  const { limit, window = 60_000 } = options;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`Invalid rateLimit.limit ${limit}: expected a whole number >= 1`);
  }
  if (!(window > 0) || !Number.isFinite(window)) {
    throw new RangeError(`Invalid rateLimit.window ${window}: expected ms > 0`);
  }
  const perMs = limit / window;
  const buckets = new Map<string, Bucket>();
  return (key) => {
    const at = now();
    let bucket = buckets.get(key);
    if (!bucket) {
      if (buckets.size >= MAX_BUCKETS) prune(buckets, at, perMs, limit);
      bucket = { tokens: limit, at };
      buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(limit, bucket.tokens + (at - bucket.at) * perMs);
    bucket.at = at;
    if (bucket.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
      throw new HttpError(
        429,
        "rate_limited",
        `Too many requests: at most ${limit} per ${window} ms; retry in ${wait} s`,
        {
          "Retry-After": String(wait),
        },
      );
    }
    bucket.tokens -= 1;
  };
}

/** Forgets buckets that have refilled, which behave as new ones would. */
function prune(buckets: Map<string, Bucket>, at: number, perMs: number, limit: number): void {
  for (const [key, bucket] of buckets) {
    if (bucket.tokens + (at - bucket.at) * perMs >= limit) buckets.delete(key);
  }
  if (buckets.size >= MAX_BUCKETS) buckets.delete(buckets.keys().next().value as string);
}
