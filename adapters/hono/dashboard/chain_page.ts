import type { EventRecord } from "../../../mod.ts";
import { layout, type PageContext } from "./layout.ts";
import { chainState, stampText } from "./stamp_text.ts";
import { badge, duration, eventLink, h, type Html, join, time } from "./view.ts";

/** Events a chain page draws at most. */
export const MAX_CHAIN_NODES = 1_000;

/**
 * The chain's events as a forest: each event under the event whose handler published it;
 * events whose cause is not in the chain are roots.
 *
 * @param records the chain's records
 * @returns the roots, oldest first, and each event's children
 */
export function chainTree(
  records: readonly EventRecord[],
): { roots: EventRecord[]; children: Map<string, EventRecord[]> } {
  const ids = new Set(records.map((r) => r.id));
  const children = new Map<string, EventRecord[]>();
  const roots: EventRecord[] = [];
  const oldestFirst = [...records].sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : 1));
  for (const r of oldestFirst) {
    if (r.causationId !== undefined && ids.has(r.causationId) && r.causationId !== r.id) {
      const list = children.get(r.causationId) ?? [];
      list.push(r);
      children.set(r.causationId, list);
    } else roots.push(r);
  }
  return { roots, children };
}

function node(
  base: string,
  r: EventRecord,
  start: number,
  here: string,
  children: Map<string, EventRecord[]>,
  seen: Set<string>,
): Html {
  seen.add(r.id);
  const took = r.status === "done" || r.status === "dead" ? h` · took ${duration(r.updatedAt - r.time)}` : "";
  const below = (children.get(r.id) ?? []).filter((c) => !seen.has(c.id));
  const current = r.id === here ? h` aria-current="true"` : "";
  return h`<li><span class="node${r.id === here ? " here" : ""}"${current}>${eventLink(base, r.id, r.name)} ${
    badge(r.status)
  } <span class="muted">+${duration(r.time - start)}${took}</span> <span class="id muted">${r.id}</span></span>${
    below.length ? h`<ul>${join(below.map((c) => node(base, c, start, here, children, seen)))}</ul>` : ""
  }</li>`;
}

/**
 * An event's chain: every event with its correlation id, drawn as a tree from cause to effect.
 *
 * @param ctx the viewer and the dashboard
 * @param here the event the page was opened from
 * @param records the chain's records
 * @param more whether the chain holds more events than were read
 * @returns the page
 */
export function chainPage(ctx: PageContext, here: EventRecord, records: readonly EventRecord[], more: boolean): Html {
  const stamp = stampText(chainState(records));
  const { roots, children } = chainTree(records);
  const start = Math.min(...records.map((r) => r.time));
  const seen = new Set<string>();
  const tree = roots.map((r) => node(ctx.base, r, start, here.id, children, seen));
  return layout(
    ctx,
    {
      title: `Chain of ${here.id}`,
      nav: "events",
      live: { url: `${ctx.base}/api/stamp?view=chain&id=${encodeURIComponent(here.id)}`, stamp },
    },
    h`<h1>Chain of ${eventLink(ctx.base, here.id, here.name)}</h1>
<p>${records.length} events with correlation id <code>${here.correlationId}</code>, from ${
      time(start)
    }; each under the event whose handler published it.</p>
${
      more
        ? h`<p role="note">The chain holds more than ${MAX_CHAIN_NODES} events; the newest ${MAX_CHAIN_NODES} are drawn.</p>`
        : ""
    }
<ul class="tree" aria-label="Causation chain">${join(tree)}</ul>`,
  );
}
