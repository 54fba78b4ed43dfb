import type { JetStreamManager } from "@nats-io/jetstream";
import type { EventRecord } from "../../driver/mod.ts";
import type { Names } from "./names.ts";
import type { EventParts } from "./record.ts";
import { readParts } from "./store.ts";

/** How many events one chain walk reads at most. */
export const MAX_CHAIN = 1_000;

/** The ids an event links to: what its handlers published, and events correlated to it explicitly. */
function linksOf(parts: EventParts): string[] {
  const { outcome, dead } = parts;
  const fromResults = [...Object.values(outcome?.handlers ?? {}), ...Object.values(dead?.handlers ?? {})]
    .flatMap((r) => r.published ?? []);
  return [...(outcome?.published ?? []), ...(outcome?.linked ?? []), ...fromResults];
}

/**
 * The records of one correlation id, found without an index: from the root (the event whose id
 * is the correlation id, or an outcome holding only the `linked` ids of events correlated to it
 * explicitly) through the ids each event's handlers published, a level at a time, every event of
 * a level read at once. Events of another correlation id (a handler that published with an
 * explicit one) end the walk on their branch.
 *
 * @param jsm the JetStream manager
 * @param names the derived names
 * @param correlationId the chain's correlation id
 * @param recordOf puts a record together from its parts
 * @returns the chain's records, in no set order (at most {@linkcode MAX_CHAIN} read)
 */
export async function chainRecords(
  jsm: JetStreamManager,
  names: Names,
  correlationId: string,
  recordOf: (parts: EventParts) => Promise<EventRecord | undefined>,
): Promise<EventRecord[]> {
  const seen = new Set([correlationId]);
  const records: EventRecord[] = [];
  let level = [correlationId];
  while (level.length > 0) {
    const read = await Promise.all(level.map(async (id) => {
      const { parts } = await readParts(jsm, names, id);
      return { parts, record: await recordOf(parts) };
    }));
    level = [];
    for (const { parts, record } of read) {
      if (record && record.correlationId !== correlationId) continue;
      if (record) records.push(record);
      for (const id of linksOf(parts)) {
        if (seen.has(id) || seen.size >= MAX_CHAIN) continue;
        seen.add(id);
        level.push(id);
      }
    }
  }
  return records;
}
