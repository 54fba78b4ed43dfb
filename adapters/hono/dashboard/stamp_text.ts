import type { EventRecord } from "../../../mod.ts";
import { fnv1a } from "../../../driver/mod.ts";

/**
 * The stamp of a state: a short hash that live pages compare.
 *
 * @param state what a page shows, as JSON
 * @returns the hash
 */
export function stampText(state: unknown): string {
  const text = JSON.stringify(state) ?? "";
  return `${fnv1a(text).toString(36)}${fnv1a(text, 0x9e3779b9).toString(36)}`;
}

/** What an event's page shows that changes. */
export function recordState(r: EventRecord | undefined): unknown {
  return r && [r.status, r.updatedAt, r.attempt, Object.values(r.handlers).map((x) => [x.status, x.attempts])];
}

/** What a chain's page shows that changes. */
export function chainState(items: readonly EventRecord[]): unknown {
  return items.map((r) => [r.id, r.status, r.updatedAt]);
}
