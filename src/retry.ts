import { EdgebusError } from "./errors.ts";

/**
 * How a failed handler is retried. Plain data: pass it to {@linkcode nextDelay}. Durations are
 * in ms.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included; `Infinity` leaves only `maxAge` to stop.
   * @default {10} */
  readonly maxAttempts: number;
  /** The delay after the first failure. @default {1000} */
  readonly minDelay: number;
  /** No delay is longer than this. @default {3600000} */
  readonly maxDelay: number;
  /** Each further delay is this many times the previous one. @default {2} */
  readonly multiplier: number;
  /** Up to this fraction (0 to 1) of each delay is taken off at random, so that failures that
   * happened together do not retry together. @default {0.2} */
  readonly jitter: number;
  /** No attempt starts later than this after the event first became due. @default {1209600000} (14 days) */
  readonly maxAge: number;
}

const DAY = 86_400_000;

/** The default policy: exponential from 1 s to 1 h, ×2, 20 % jitter, 10 attempts, 14 days. */
export const defaultRetry: RetryPolicy = Object.freeze({
  maxAttempts: 10,
  minDelay: 1_000,
  maxDelay: 3_600_000,
  multiplier: 2,
  jitter: 0.2,
  maxAge: 14 * DAY,
});

/** Ampt's policy, for those who move from it: every six minutes, for up to 14 days. */
export const amptRetry: RetryPolicy = Object.freeze({
  maxAttempts: Infinity,
  minDelay: 360_000,
  maxDelay: 360_000,
  multiplier: 1,
  jitter: 0,
  maxAge: 14 * DAY,
});

/**
 * Fills a partial policy from a base one and checks every field.
 *
 * @param overrides the fields to change
 * @param base the policy the rest comes from
 * @returns a complete, frozen policy
 * @throws {EdgebusError} code `invalid_option` when a field is out of range
 *
 * @example
 * ```ts
 * import { resolveRetry } from "@edgebus/edgebus";
 * console.log(resolveRetry({ maxAttempts: 3 }).minDelay); // 1000
 * ```
 */
export function resolveRetry(overrides: Partial<RetryPolicy> = {}, base: RetryPolicy = defaultRetry): RetryPolicy {
  const policy = { ...base, ...overrides };
  const bad = (field: string, rule: string): never => {
    throw new EdgebusError(
      "invalid_option",
      `Invalid retry policy: ${field} must be ${rule}, got ${String((policy as Record<string, unknown>)[field])}`,
    );
  };
  if (!(policy.maxAttempts >= 1) || (!Number.isInteger(policy.maxAttempts) && policy.maxAttempts !== Infinity)) {
    bad("maxAttempts", "a whole number of at least 1 or Infinity");
  }
  if (!(policy.minDelay >= 0) || !Number.isFinite(policy.minDelay)) bad("minDelay", "a finite number >= 0");
  if (!(policy.maxDelay >= policy.minDelay) || !Number.isFinite(policy.maxDelay)) {
    bad("maxDelay", "a finite number >= minDelay");
  }
  if (!(policy.multiplier >= 1) || !Number.isFinite(policy.multiplier)) bad("multiplier", "a finite number >= 1");
  if (!(policy.jitter >= 0 && policy.jitter <= 1)) bad("jitter", "between 0 and 1");
  if (!(policy.maxAge > 0)) bad("maxAge", "greater than 0");
  return Object.freeze(policy);
}

/**
 * The delay before the next attempt, after attempt number `attempt` (counting from 1) failed.
 * Pure: randomness comes in as `random`.
 *
 * @param attempt the attempt that just failed, from 1
 * @param policy the retry policy
 * @param random a number in [0, 1) for the jitter
 * @returns the delay in ms
 *
 * @example
 * ```ts
 * import { defaultRetry, nextDelay } from "@edgebus/edgebus";
 * const policy = { ...defaultRetry, jitter: 0 };
 * console.log([1, 2, 3].map((attempt) => nextDelay(attempt, policy))); // [1000, 2000, 4000]
 * ```
 */
export function nextDelay(attempt: number, policy: RetryPolicy, random: number = Math.random()): number {
  const exponent = Math.max(0, attempt - 1);
  const raw = policy.minDelay * policy.multiplier ** exponent;
  const capped = Math.min(policy.maxDelay, Number.isFinite(raw) ? raw : policy.maxDelay);
  return Math.round(capped * (1 - policy.jitter * random));
}

/**
 * Whether another attempt is allowed after attempt `attempt` failed at `now`, for an event
 * first due at `firstDue`, if the next one would start at `nextAt`.
 *
 * @param attempt the attempt that just failed, from 1
 * @param nextAt when the next attempt would start
 * @param firstDue when the event first became due
 * @param policy the retry policy
 * @returns true when the policy allows it
 *
 * @example
 * ```ts
 * import { canRetry, defaultRetry } from "@edgebus/edgebus";
 * console.log(canRetry(10, 0, 0, defaultRetry)); // false: 10 attempts were made
 * ```
 */
export function canRetry(attempt: number, nextAt: number, firstDue: number, policy: RetryPolicy): boolean {
  return attempt < policy.maxAttempts && nextAt - firstDue <= policy.maxAge;
}
