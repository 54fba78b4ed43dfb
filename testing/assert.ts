/**
 * The few assertions the suite makes, written here rather than taken from `node:assert`: the
 * suite runs wherever a driver does (workerd without `nodejs_compat`, a browser, Deno, Bun,
 * Node), and, like the core, imports nothing runtime-specific.
 */

/** A failed assertion. */
export class AssertionError extends Error {
  /** The error's name. */
  override readonly name: string = "AssertionError";
}

const show = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  const objB = b as Record<string, unknown>;
  return keysA.every((key) => Object.hasOwn(objB, key) && same((a as Record<string, unknown>)[key], objB[key]));
}

/** The assertions, named as `node:assert/strict` names them. */
export const assert = {
  /** Fails unless `value` is truthy. */
  ok(value: unknown, message?: string): void {
    if (!value) throw new AssertionError(message ?? `Expected a truthy value, got ${show(value)}`);
  },
  /** Fails unless `actual` is `expected` (`Object.is`). */
  equal(actual: unknown, expected: unknown, message?: string): void {
    if (!Object.is(actual, expected)) {
      throw new AssertionError(`${message ? `${message}: ` : ""}expected ${show(expected)}, got ${show(actual)}`);
    }
  },
  /** Fails unless `actual` and `expected` have the same own keys and values, deeply. */
  deepEqual(actual: unknown, expected: unknown, message?: string): void {
    if (!same(actual, expected)) {
      throw new AssertionError(`${message ? `${message}: ` : ""}expected ${show(expected)}, got ${show(actual)}`);
    }
  },
  /** Fails unless `promise` rejects with an error that `check` accepts. */
  async rejects(promise: Promise<unknown>, check: (error: unknown) => boolean, message?: string): Promise<void> {
    let error: unknown;
    try {
      await promise;
    } catch (e) {
      error = e;
      if (check(e)) return;
    }
    const what = error === undefined ? "it resolved" : `it rejected with ${String(error)}`;
    throw new AssertionError(`${message ? `${message}: ` : ""}expected a rejection the check accepts, but ${what}`);
  },
};
