import { type Bus, EdgebusError, type EventRecord, type EventStatus, type StatusCounts } from "../../../mod.ts";
import { EVENT_STATUSES } from "../../../driver/mod.ts";
import { layout, type PageContext } from "./layout.ts";
import { stampText } from "./stamp_text.ts";
import { badge, eventLink, h, type Html, join, preview, time, withQuery } from "./view.ts";

/** Records a list page shows. */
export const PAGE_SIZE = 50;
/** Characters of body JSON a listing carries. */
export const PREVIEW = 120;
/** Pages read at most to find records inside a time range. */
const MAX_READS = 10;

/** The filters of the events page, as read from the query. */
export interface EventFilters {
  readonly status?: EventStatus;
  readonly name?: string;
  readonly from?: number;
  readonly to?: number;
  readonly cursor?: string;
}

const MINUTE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?$/;

function instant(field: string, value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const ms = MINUTE.test(value) ? Date.parse(`${value}Z`) : NaN;
  if (Number.isNaN(ms)) {
    throw new EdgebusError(
      "invalid_option",
      `Invalid ${field} ${JSON.stringify(value)}: expected a UTC date and time as YYYY-MM-DDTHH:MM`,
    );
  }
  return ms;
}

/**
 * Reads the filters of the events page; the bus checks status and name when it lists.
 *
 * @param read a query parameter by name
 * @returns the filters
 * @throws {EdgebusError} code `invalid_option` for a bad time or an empty range
 */
export function readFilters(read: (key: string) => string | undefined): EventFilters {
  const some = (key: string) => read(key) || undefined;
  const from = instant("from", read("from"));
  const to = instant("to", read("to"));
  if (from !== undefined && to !== undefined && from > to) {
    throw new EdgebusError("invalid_option", "Invalid time range: from is after to");
  }
  return { status: some("status") as EventStatus | undefined, name: some("name"), from, to, cursor: some("cursor") };
}

/** A page of records inside the filters' time range, and where the next page starts. */
export async function findRecords(
  bus: Bus,
  filters: EventFilters,
): Promise<{ items: EventRecord[]; cursor?: string }> {
  const { status, name, from, to } = filters;
  let cursor = filters.cursor;
  for (let reads = 0; reads < MAX_READS; reads++) {
    const page = await bus.list({ status, name, cursor, limit: PAGE_SIZE, bodyLimit: PREVIEW });
    const older = from === undefined ? -1 : page.items.findIndex((r) => r.time < from);
    const inside = (older < 0 ? page.items : page.items.slice(0, older)).filter((r) =>
      to === undefined || r.time <= to
    );
    const next = older < 0 ? page.cursor : undefined;
    // Newest first: pages newer than `to` are skipped, up to a few reads; the rest is one page.
    if (inside.length > 0 || next === undefined || reads === MAX_READS - 1) return { items: inside, cursor: next };
    cursor = next;
  }
  return { items: [] };
}

/**
 * The counts per status the store keeps cheaply (none when it has no `count`).
 *
 * @param bus the bus
 * @returns the counts
 */
export async function countsOf(bus: Bus): Promise<StatusCounts> {
  const store = bus.driver.store;
  return (await store.count?.()) ?? {};
}

/**
 * The state of the events page that live updates compare.
 *
 * @param counts the counts
 * @param items the records shown
 * @returns the stamp
 */
export function eventsStamp(counts: StatusCounts, items: readonly EventRecord[]): string {
  return stampText([counts, items.map((r) => [r.id, r.status, r.updatedAt])]);
}

/**
 * The counts at the top of the events page, each a link to its filter; statuses the store
 * cannot count cheaply are left out.
 */
export function countsBar(base: string, counts: StatusCounts): Html {
  const known = EVENT_STATUSES.filter((s) => counts[s] !== undefined);
  if (known.length === 0) return h``;
  return h`<ul class="counts" aria-label="Events per status">${
    join(known.map((s) =>
      h`<li><a href="${withQuery(base || "/", { status: s })}"><b>${counts[s]}</b>${badge(s)}</a></li>`
    ))
  }</ul>`;
}

function filterForm(ctx: PageContext, filters: EventFilters, toText: (ms?: number) => string): Html {
  const options = ["", ...EVENT_STATUSES].map((s) =>
    h`<option value="${s}"${filters.status === s ? h` selected` : ""}>${s || "any"}</option>`
  );
  return h`<form class="filters" method="get" action="${ctx.base || "/"}" role="search">
<label>Status<select name="status">${join(options)}</select></label>
<label>Name or pattern<input name="name" value="${filters.name ?? ""}" placeholder="user.* or billing.>"></label>
<label>From (UTC)<input type="datetime-local" name="from" value="${toText(filters.from)}"></label>
<label>To (UTC)<input type="datetime-local" name="to" value="${toText(filters.to)}"></label>
<button>Filter</button></form>
<form class="filters" method="get" action="${ctx.base}/find"><label>Find by id<input name="id" required></label><button>Open</button></form>`;
}

/**
 * A table of records: time, name, id, status, attempts, a body preview.
 *
 * @param base the dashboard's path
 * @param items the records
 * @returns the table, or a line saying there are none
 */
export function recordTable(base: string, items: readonly EventRecord[]): Html {
  if (items.length === 0) return h`<p class="muted">No events match.</p>`;
  const rows = items.map((r) =>
    h`<tr><td>${time(r.time)}</td><td>${r.name}</td><td>${eventLink(base, r.id)}</td><td>${
      badge(r.status)
    }</td><td>${r.attempt}</td><td><code>${preview(r)}</code></td></tr>`
  );
  return h`<table><thead><tr><th scope="col">Published</th><th scope="col">Name</th><th scope="col">Id</th>
<th scope="col">Status</th><th scope="col">Attempt</th><th scope="col">Body</th></tr></thead><tbody>${
    join(rows)
  }</tbody></table>`;
}

/**
 * The events page: counts per status, filters, newest first, paged, live.
 *
 * @param bus the bus
 * @param ctx the viewer and the dashboard
 * @param filters the filters
 * @param query the page's query string, for the live-update stamp
 * @returns the page
 */
export async function eventsPage(bus: Bus, ctx: PageContext, filters: EventFilters, query: string): Promise<Html> {
  const [page, counts] = await Promise.all([findRecords(bus, filters), countsOf(bus)]);
  const stamp = eventsStamp(counts, page.items);
  const toText = (ms?: number) => ms === undefined ? "" : new Date(ms).toISOString().slice(0, 16);
  const next = page.cursor === undefined ? "" : h`<p><a rel="next" href="${
    withQuery(ctx.base || "/", {
      status: filters.status,
      name: filters.name,
      from: toText(filters.from),
      to: toText(filters.to),
      cursor: page.cursor,
    })
  }">Older events →</a></p>`;
  const first = filters.cursor
    ? h`<p><a href="${
      withQuery(ctx.base || "/", { ...filters, cursor: undefined, from: toText(filters.from), to: toText(filters.to) })
    }">← Newest events</a></p>`
    : "";
  return layout(
    ctx,
    { title: "Events", nav: "events", live: { url: `${ctx.base}/api/stamp?${query}`, stamp } },
    h`<h1>Events</h1>${countsBar(ctx.base, counts)}${filterForm(ctx, filters, toText)}${
      recordTable(ctx.base, page.items)
    }${first}${next}`,
  );
}
