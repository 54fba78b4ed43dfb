import type { Envelope } from "./driver.ts";
import { EdgebusError } from "./errors.ts";

/**
 * Runs a store or transport call; any failure that is not already typed becomes `unavailable`,
 * so that an outage looks the same from every method of the bus.
 *
 * @param doing what is being done, for the message (`read "evt-1"`)
 * @param call the call
 * @returns what the call returned
 * @throws {EdgebusError} code `unavailable` for an untyped failure
 */
export async function transport<T>(doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof EdgebusError) throw error;
    throw new EdgebusError("unavailable", `Cannot ${doing}: the transport failed (${String(error)})`, { cause: error });
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
