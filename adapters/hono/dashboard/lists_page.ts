import type { Bus, EventRecord } from "../../../mod.ts";
import { PAGE_SIZE, PREVIEW } from "./events_page.ts";
import { layout, type PageContext } from "./layout.ts";
import { badge, duration, eventLink, h, type Html, join, time, withQuery } from "./view.ts";

const csrfField = (ctx: PageContext): Html => h`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;

/**
 * The scheduled page: delayed events not yet due, soonest first within the page, with cancel.
 *
 * @param bus the bus
 * @param ctx the viewer and the dashboard
 * @param cursor where the page starts
 * @param now the clock
 * @returns the page
 */
export async function scheduledPage(
  bus: Bus,
  ctx: PageContext,
  cursor: string | undefined,
  now: number,
): Promise<Html> {
  const page = await bus.list({ status: "scheduled", limit: PAGE_SIZE, cursor, bodyLimit: 0 });
  const items = [...page.items].sort((a, b) => a.due - b.due);
  const rows = items.map((r) =>
    h`<tr><td>${time(r.due)} <span class="muted">in ${duration(r.due - now)}</span></td><td>${r.name}</td><td>${
      eventLink(ctx.base, r.id)
    }</td><td>${time(r.time)}</td><td>${
      ctx.readOnly
        ? ""
        : h`<form method="post" action="${ctx.base}/events/${encodeURIComponent(r.id)}/cancel">${
          csrfField(ctx)
        }<button class="danger" aria-label="Cancel ${r.id}">Cancel</button></form>`
    }</td></tr>`
  );
  const table = items.length === 0 ? h`<p class="muted">Nothing is scheduled.</p>` : h`<table><thead><tr>
<th scope="col">Due</th><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Published</th><th scope="col"><span class="sr">Action</span></th>
</tr></thead><tbody>${join(rows)}</tbody></table>`;
  const next = page.cursor
    ? h`<p><a rel="next" href="${withQuery(`${ctx.base}/scheduled`, { cursor: page.cursor })}">More →</a></p>`
    : "";
  return layout(
    ctx,
    { title: "Scheduled", nav: "scheduled" },
    h`<h1>Scheduled</h1><p class="muted">Newest published first, page by page; each page sorted by due time.</p>${table}${next}`,
  );
}

function errors(r: EventRecord): Html {
  const failed = Object.entries(r.handlers).filter(([, x]) => x.status !== "done");
  if (failed.length === 0) return h`<span class="muted">no handler error recorded</span>`;
  return h`<ul>${
    join(failed.map(([id, x]) =>
      h`<li><code>${id}</code> ${badge(x.status)} after ${x.attempts}: ${
        x.error ? h`<strong>${x.error.name}</strong>: ${x.error.message}` : "no error recorded"
      }</li>`
    ))
  }</ul>`;
}

/**
 * The dead letters: each with its handlers' errors; replay or delete one, a selection, or every
 * one matching the filter (after a confirmation).
 *
 * @param bus the bus
 * @param ctx the viewer and the dashboard
 * @param name the name filter
 * @param cursor where the page starts
 * @returns the page
 */
export async function deadPage(
  bus: Bus,
  ctx: PageContext,
  name: string | undefined,
  cursor: string | undefined,
): Promise<Html> {
  const page = await bus.deadLetters.list({ name, limit: PAGE_SIZE, cursor, bodyLimit: PREVIEW });
  const base = ctx.base;
  const rows = page.items.map((r) => {
    const id = encodeURIComponent(r.id);
    const pick = ctx.readOnly
      ? ""
      : h`<td><input type="checkbox" name="id" value="${r.id}" aria-label="Select ${r.id}"></td>`;
    const buttons = ctx.readOnly ? "" : h`<td class="row"><button formaction="${base}/dead/${id}/replay">Replay</button>
<button class="danger" formaction="${base}/dead/${id}/delete">Delete</button></td>`;
    return h`<tr>${pick}<td>${time(r.updatedAt)}</td><td>${r.name}</td><td>${eventLink(base, r.id)}</td><td>${
      errors(r)
    }</td>${buttons}</tr>`;
  });
  const head = ctx.readOnly
    ? ""
    : h`<th scope="col"><input type="checkbox" data-check-all aria-label="Select every dead letter on this page"></th>`;
  const table = page.items.length === 0
    ? h`<p class="muted">No dead letters${name ? " match" : ""}.</p>`
    : h`<table><thead><tr>${head}
<th scope="col">Died</th><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Errors</th>${
      ctx.readOnly ? "" : h`<th scope="col"><span class="sr">Actions</span></th>`
    }</tr></thead><tbody>${join(rows)}</tbody></table>`;
  const bulk = ctx.readOnly || page.items.length === 0 ? "" : h`<fieldset class="row"><legend>Bulk</legend>
<label class="row"><span><input type="radio" name="scope" value="selected" checked> the selected</span></label>
<label class="row"><span><input type="radio" name="scope" value="all"> every dead letter${
    name ? " matching the filter" : ""
  }</span></label>
<button name="action" value="replay">Replay…</button><button class="danger" name="action" value="delete">Delete…</button></fieldset>`;
  const next = page.cursor
    ? h`<p><a rel="next" href="${withQuery(`${base}/dead`, { name, cursor: page.cursor })}">More →</a></p>`
    : "";
  return layout(
    ctx,
    { title: "Dead letters", nav: "dead" },
    h`<h1>Dead letters</h1><form class="filters" method="get" action="${base}/dead" role="search">
<label>Name or pattern<input name="name" value="${name ?? ""}"></label><button>Filter</button></form>
<form method="post" action="${base}/dead/bulk">${csrfField(ctx)}<input type="hidden" name="name" value="${
      name ?? ""
    }">${table}${bulk}</form>${next}`,
  );
}

/**
 * The confirmation of a bulk action, repeating what was asked in a form that confirms it.
 *
 * @param ctx the viewer and the dashboard
 * @param action replay or delete
 * @param ids the dead letters it would act on
 * @param fields the fields to send again
 * @returns the page
 */
export function confirmPage(
  ctx: PageContext,
  action: "replay" | "delete",
  ids: readonly string[],
  fields: Record<string, string | string[]>,
): Html {
  const hidden = Object.entries(fields).flatMap(([key, value]) =>
    (Array.isArray(value) ? value : [value]).map((v) => h`<input type="hidden" name="${key}" value="${v}">`)
  );
  const shown = ids.slice(0, 20).map((id) => h`<li>${eventLink(ctx.base, id)}</li>`);
  const verb = action === "replay" ? "Replay" : "Delete for good";
  return layout(
    ctx,
    { title: "Confirm", nav: "dead" },
    h`<h1>${verb} ${ids.length} dead letter${ids.length === 1 ? "" : "s"}?</h1>
<ul>${join(shown)}${ids.length > 20 ? h`<li>and ${ids.length - 20} more</li>` : ""}</ul>
<form method="post" action="${ctx.base}/dead/bulk" class="row">${csrfField(ctx)}${join(hidden)}
<input type="hidden" name="confirm" value="yes"><button${
      action === "delete" ? h` class="danger"` : ""
    }>Yes, ${verb.toLowerCase()} ${ids.length}</button>
<a href="${ctx.base}/dead">No, go back</a></form>`,
  );
}

/** What the send form was given, shown again when it fails. */
export interface SendFields {
  readonly name?: string;
  readonly body?: string;
  readonly after?: string;
  readonly id?: string;
}

/**
 * The form that publishes an event by hand.
 *
 * @param ctx the viewer and the dashboard
 * @param fields the values to fill in
 * @param problem why the last try failed
 * @returns the page
 */
export function sendPage(ctx: PageContext, fields: SendFields = {}, problem?: string): Html {
  return layout(
    ctx,
    { title: "Send an event", nav: "send" },
    h`<h1>Send an event</h1>${problem ? h`<p class="flash error" role="alert">${problem}</p>` : ""}
<form method="post" action="${ctx.base}/send">${csrfField(ctx)}
<p><label>Name<input name="name" required value="${fields.name ?? ""}" placeholder="user.joined"></label></p>
<p><label>Body (JSON)<textarea name="body" rows="8" cols="60">${fields.body ?? "{}"}</textarea></label></p>
<p class="row"><label>After (optional)<input name="after" value="${
      fields.after ?? ""
    }" placeholder="5 minutes, 60000, or an ISO date"></label>
<label>Id (optional, the idempotency key)<input name="id" value="${fields.id ?? ""}"></label></p>
<p><button>Publish</button></p></form>`,
  );
}

/**
 * The sign-in form.
 *
 * @param ctx the dashboard
 * @param next where to go after signing in
 * @param problem why the last try failed
 * @returns the page
 */
export function loginPage(ctx: PageContext, next: string, problem?: string): Html {
  return layout(
    ctx,
    { title: "Sign in" },
    h`<h1>Sign in</h1>${problem ? h`<p class="flash error" role="alert">${problem}</p>` : ""}
<form method="post" action="${ctx.base}/login"><input type="hidden" name="next" value="${next}">
<p><label>API token<input type="password" name="token" required autocomplete="current-password"></label></p>
<p><button>Sign in</button></p></form>`,
  );
}
