import type { Envelope } from "./driver.ts";
import { EdgebusError } from "./errors.ts";

/**
 * Runs a store or transport call; any failure that is not already typed becomes `unavailable`,
 * so that an outage looks the same from every method of the bus.
 *
 * @param doing what is being done, for the message (`read "evt-1"`)
 * @param call the call
 * @param reword changes the error thrown, once typed (a send's adds how to be sure of one delivery)
 * @returns what the call returned
 * @throws {EdgebusError} code `unavailable` for an untyped failure
 */
export function transport<T>(
  doing: string,
  call: () => Promise<T>,
  reword: (error: unknown) => unknown = (error) => error,
): Promise<T> {
  const typed = (error: unknown): never => {
    if (error instanceof EdgebusError) throw reword(error);
    throw reword(
      new EdgebusError("unavailable", `Cannot ${doing}: the transport failed (${String(error)})`, { cause: error }),
    );
  };
  // Not an async function: the publish path calls it twice an event, and a promise chained
  // on the call costs less than an async function's frame.
  return promised(call).then(undefined, typed);
}

/**
 * Calls a store or transport function and answers a promise whatever it did: its promise, a
 * plain value or another library's thenable adopted (as `await` would), a throw rejected.
 * Without an async function's frame, for the hot paths.
 *
 * @param call the call
 * @returns its outcome, as a promise
 */
export function promised<T>(call: () => T | PromiseLike<T>): Promise<T> {
  try {
    const value = call();
    return value instanceof Promise ? value : Promise.resolve(value);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * A send that timed out may still have landed: the error says how to be sure of exactly one
 * delivery (publish again with the same ids).
 *
 * @param error what the send threw
 * @param envelopes what was being sent
 * @returns the error to throw
 */
export function mayHaveLanded(error: unknown, envelopes: readonly Envelope[]): unknown {
  if (!(error instanceof EdgebusError) || error.code !== "unavailable") return error;
  const ids = envelopes.slice(0, 3).map((e) => JSON.stringify(e.id)).join(", ");
  const hint = envelopes.length === 1 ? `id ${ids}` : `ids ${ids}${envelopes.length > 3 ? ", …" : ""}`;
  return new EdgebusError(
    "unavailable",
    `${error.message}. It may still have been sent: publish again with ${hint} to have it delivered once`,
    { cause: error },
  );
}
