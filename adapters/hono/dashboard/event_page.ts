import type { EventRecord } from "../../../mod.ts";
import { layout, type PageContext } from "./layout.ts";
import { recordState, stampText } from "./stamp_text.ts";
import { badge, duration, eventLink, h, type Html, join, time } from "./view.ts";

interface Moment {
  readonly at: number;
  readonly what: Html;
}

/**
 * What the record says happened, in order: published, due, each handler's last finish and next
 * attempt, the end. A record keeps each handler's last result, not every attempt.
 *
 * @param r the record
 * @returns the moments, oldest first
 */
export function timeline(r: EventRecord): Moment[] {
  const moments: Moment[] = [{ at: r.time, what: h`Published${r.origin ? ` (from ${r.origin})` : ""}` }];
  if (r.delay > 0) moments.push({ at: r.time + r.delay, what: h`Due (after ${duration(r.delay)})` });
  for (const [id, result] of Object.entries(r.handlers)) {
    if (result.finishedAt !== undefined) {
      const error = result.error ? h`: ${result.error.name}: ${result.error.message}` : "";
      moments.push({
        at: result.finishedAt,
        what: h`Handler <code>${id}</code> ${badge(result.status)} after attempt ${result.attempts}${error}`,
      });
    }
    if (result.nextAt !== undefined && result.status === "failed") {
      moments.push({
        at: result.nextAt,
        what: h`Handler <code>${id}</code> runs again (attempt ${result.attempts + 1})`,
      });
    }
  }
  if (r.status === "cancelled") moments.push({ at: r.updatedAt, what: h`Cancelled` });
  if (r.status === "dead") moments.push({ at: r.updatedAt, what: h`Moved to the dead letters` });
  if (r.noHandler) moments.push({ at: r.updatedAt, what: h`Delivered; no handler takes this name` });
  return moments.sort((a, b) => a.at - b.at);
}

function handlerTable(base: string, r: EventRecord): Html {
  const entries = Object.entries(r.handlers);
  if (entries.length === 0) {
    return h`<p class="muted">${r.noHandler ? "No handler takes this event." : "No handler has run yet."}</p>`;
  }
  const rows = entries.map(([id, x]) =>
    h`<tr><td><code>${id}</code></td><td>${badge(x.status)}</td><td>${x.attempts}</td><td>${
      x.error ? h`<strong>${x.error.name}</strong>: ${x.error.message}` : h`<span class="muted">—</span>`
    }</td><td>${time(x.finishedAt)}</td><td>${
      x.status === "failed" ? time(x.nextAt) : h`<span class="muted">—</span>`
    }</td><td>${join((x.published ?? []).map((p) => h`${eventLink(base, p)} `))}</td></tr>`
  );
  return h`<table><thead><tr><th scope="col">Handler</th><th scope="col">Status</th><th scope="col">Attempts</th>
<th scope="col">Last error</th><th scope="col">Finished</th><th scope="col">Next attempt</th><th scope="col">Published</th></tr></thead>
<tbody>${join(rows)}</tbody></table>`;
}

function actions(ctx: PageContext, r: EventRecord): Html {
  if (ctx.readOnly) return h``;
  const id = encodeURIComponent(r.id);
  const form = (path: string, label: string, danger = false) =>
    h`<form method="post" action="${ctx.base}${path}"><input type="hidden" name="_csrf" value="${ctx.csrf}"><button${
      danger ? h` class="danger"` : ""
    }>${label}</button></form>`;
  const buttons: Html[] = [];
  if (r.status === "scheduled") buttons.push(form(`/events/${id}/cancel`, "Cancel this event", true));
  if (r.status === "dead") {
    buttons.push(form(`/dead/${id}/replay`, "Replay"), form(`/dead/${id}/delete`, "Delete", true));
  }
  return buttons.length ? h`<div class="row">${join(buttons)}</div>` : h``;
}

/**
 * An event's page: envelope, status, due time, handlers, timeline, pretty body.
 *
 * @param ctx the viewer and the dashboard
 * @param r the record
 * @returns the page
 */
export function eventPage(ctx: PageContext, r: EventRecord): Html {
  const stamp = stampText(recordState(r));
  const { base } = ctx;
  const chain = `${base}/events/${encodeURIComponent(r.id)}/chain`;
  const moments = timeline(r).map((m) => h`<li>${time(m.at)} — ${m.what}</li>`);
  return layout(
    ctx,
    {
      title: `${r.name} ${r.id}`,
      nav: "events",
      live: { url: `${base}/api/stamp?view=event&id=${encodeURIComponent(r.id)}`, stamp },
    },
    h`<h1>${r.name} ${badge(r.status)}</h1>${actions(ctx, r)}
<dl><dt>Id</dt><dd class="id">${r.id}</dd><dt>Status</dt><dd>${badge(r.status)}</dd>
<dt>Published</dt><dd>${time(r.time)}</dd><dt>Due</dt><dd>${time(r.due)}${
      r.delay > 0 ? h` <span class="muted">(delay ${duration(r.delay)})</span>` : ""
    }</dd><dt>Attempt</dt><dd>${r.attempt}</dd>
<dt>Correlation id</dt><dd class="id">${r.correlationId} · <a href="${chain}">Show the chain</a></dd>
${r.causationId ? h`<dt>Caused by</dt><dd>${eventLink(base, r.causationId)}</dd>` : ""}
${r.origin ? h`<dt>Origin</dt><dd>${r.origin}</dd>` : ""}<dt>Updated</dt><dd>${time(r.updatedAt)}</dd></dl>
<h2>Handlers</h2>${handlerTable(base, r)}<h2>Timeline</h2><ol>${join(moments)}</ol>
<h2>Body</h2><pre><code>${JSON.stringify(r.body, null, 2)}</code></pre>`,
  );
}
