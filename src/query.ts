import type { ListQuery } from "./driver.ts";
import { EdgebusError } from "./errors.ts";
import { compilePattern } from "./patterns.ts";
import { EVENT_STATUSES } from "./statuses.ts";

/**
 * Checks a list query before it reaches a store.
 *
 * @param query the query
 * @throws {EdgebusError} code `invalid_option` for a bad limit or status, `invalid_pattern` for a bad name
 */
export function assertQuery(query: ListQuery): void {
  const { limit, name, status } = query;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000)) {
    throw new EdgebusError("invalid_option", `Invalid limit ${String(limit)}: expected a whole number from 1 to 1000`);
  }
  if (name !== undefined) compilePattern(name);
  if (status !== undefined && !EVENT_STATUSES.includes(status)) {
    throw new EdgebusError(
      "invalid_option",
      `Invalid status ${JSON.stringify(status)}: expected one of ${EVENT_STATUSES.join(", ")}`,
    );
  }
}
