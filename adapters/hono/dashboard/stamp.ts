import type { Bus } from "../../../mod.ts";
import { MAX_CHAIN_NODES } from "./chain_page.ts";
import { countsOf, eventsStamp, findRecords, readFilters } from "./events_page.ts";
import { chainState, recordState, stampText } from "./stamp_text.ts";

/**
 * What a live page polls: a short hash of what it shows, which changes when its content would.
 * One poll costs what the page's own reads cost without bodies: a page of records and the
 * counts, one record, or one chain.
 *
 * @param bus the bus
 * @param params `view` (`events`, `event`, `chain`), `id`, and the events page's filters
 * @returns the stamp
 */
export async function stampOf(bus: Bus, params: URLSearchParams): Promise<string> {
  const view = params.get("view") ?? "events";
  const id = params.get("id") ?? "";
  let state: unknown;
  if (view === "event") {
    state = recordState(await bus.get(id));
  } else if (view === "chain") {
    const root = await bus.get(id);
    const page = root
      ? await bus.list({ correlationId: root.correlationId, limit: MAX_CHAIN_NODES, bodyLimit: 0 })
      : { items: [] };
    state = chainState(page.items);
  } else {
    const filters = readFilters((key) => params.get(key) ?? undefined);
    const [page, counts] = await Promise.all([findRecords(bus, filters), countsOf(bus)]);
    return eventsStamp(counts, page.items);
  }
  return stampText(state);
}
