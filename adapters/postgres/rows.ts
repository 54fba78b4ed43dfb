import { EdgebusError, type PublishItem } from "../../mod.ts";
import { createEnvelope } from "../../driver/mod.ts";

/** An outbox row as the relay reads it. */
export interface OutboxRow {
  /** The event id (the idempotency key the bus deduplicates by). */
  readonly id: string;
  /** The event name. */
  readonly name: string;
  /** The body as JSON text. */
  readonly body: string;
  /** When it is due, epoch ms; null for now. */
  readonly due: number | null;
  /** The correlation id, when the publisher gave one. */
  readonly correlationId: string | null;
  /** The origin, when the publisher gave one. */
  readonly origin: string | null;
}

/**
 * Checks items as `bus.publish` does (name, `after`, id, origin, JSON, size) and makes their rows.
 *
 * @param items what to publish
 * @param now the clock, epoch ms
 * @param newId makes an id when an item has none
 * @returns one row per item
 * @throws {EdgebusError} `invalid_name`, `invalid_id`, `invalid_delay`, `not_serializable`, `too_large`,
 * `invalid_option`
 */
export function rowsOf(items: readonly PublishItem[], now: number, newId: () => string): OutboxRow[] {
  if (!Array.isArray(items)) {
    throw new EdgebusError("invalid_option", "Cannot publish a batch: expected an array of { name, body, after, id }");
  }
  return items.map((item) => {
    if (typeof item !== "object" || item === null) {
      throw new EdgebusError("invalid_option", `Cannot publish ${String(item)}: expected { name, body, after, id }`);
    }
    const e = createEnvelope(item, now, newId);
    return {
      id: e.id,
      name: e.name,
      body: JSON.stringify(e.body),
      due: e.due > now ? e.due : null,
      correlationId: item.correlationId ?? null,
      origin: e.origin ?? null,
    };
  });
}

/**
 * The publish item a row becomes. A due time still ahead is sent as the delay left, so that a
 * late relay does not delay the event twice; a due time already past publishes at once.
 *
 * @param row the row
 * @param now the clock, epoch ms
 * @returns the item for `publishBatch`
 */
export function itemOfRow(row: OutboxRow, now: number): PublishItem {
  const item: { -readonly [K in keyof PublishItem]: PublishItem[K] } = {
    id: row.id,
    name: row.name,
    body: JSON.parse(row.body),
  };
  if (row.due !== null && row.due > now) item.after = Math.ceil(row.due - now);
  if (row.correlationId) item.correlationId = row.correlationId;
  if (row.origin) item.origin = row.origin;
  return item;
}
