import type { ListQuery } from "./driver.ts";
import { EdgebusError } from "./errors.ts";
import { compilePattern } from "./patterns.ts";
import { EVENT_STATUSES } from "./statuses.ts";
import { assertId } from "./ids.ts";

/**
 * Checks a list query before it reaches a store.
 *
 * @param query the query
 * @throws {EdgebusError} code `invalid_option` for a bad limit, status or body limit, `invalid_pattern`
 * for a bad name, `invalid_id` for a bad correlation id
 */
export function assertQuery(query: ListQuery): void {
  const { limit, name, status, correlationId, bodyLimit } = query;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000)) {
    throw new EdgebusError("invalid_option", `Invalid limit ${String(limit)}: expected a whole number from 1 to 1000`);
  }
  if (name !== undefined) compilePattern(name);
  if (correlationId !== undefined) assertId(correlationId);
  if (bodyLimit !== undefined && (!Number.isInteger(bodyLimit) || bodyLimit < 0 || bodyLimit > 1_000_000)) {
    throw new EdgebusError(
      "invalid_option",
      `Invalid bodyLimit ${String(bodyLimit)}: expected a whole number of characters from 0 to 1000000`,
    );
  }
  if (status !== undefined && !EVENT_STATUSES.includes(status)) {
    throw new EdgebusError(
      "invalid_option",
      `Invalid status ${JSON.stringify(status)}: expected one of ${EVENT_STATUSES.join(", ")}`,
    );
  }
}
