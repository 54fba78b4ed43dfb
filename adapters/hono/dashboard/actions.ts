import type { Context } from "hono";
import { assertId, type Bus, EdgebusError, type EventRecord } from "../../../mod.ts";
import { httpAfter } from "../input.ts";
import type { DashboardEnv } from "./dashboard.ts";
import { type PageContext, problemPage } from "./layout.ts";
import { confirmPage, type SendFields, sendPage } from "./lists_page.ts";
import type { Html } from "./view.ts";

type C = Context<DashboardEnv>;

/** What the actions need from the dashboard. */
export interface ActionDeps {
  readonly bus: Bus;
  readonly ctxOf: (c: C) => PageContext;
  readonly render: (c: C, page: Html, status?: 200 | 400 | 401 | 403 | 404) => Response | Promise<Response>;
  /** Redirects after an action, with its result shown once on the next page. */
  readonly done: (c: C, to: string, flash: { ok: boolean; text: string }) => Response;
}

/** Dead letters one bulk action takes at most. */
export const MAX_BULK = 1_000;

const field = (c: C, key: string): string => {
  const value = c.get("form")[key];
  return (Array.isArray(value) ? value[0] : value ?? "").toString().trim();
};

const why = (error: unknown): string => error instanceof EdgebusError ? error.message : "the server failed";

/** Where to go back to after an action: the page it was sent from, when it is one of the dashboard's. */
function back(c: C, fallback: string): string {
  const referer = c.req.header("referer");
  if (!referer) return fallback;
  try {
    const from = new URL(referer);
    const here = new URL(c.req.url);
    const base = c.get("base");
    return from.origin === here.origin && (from.pathname === base || from.pathname.startsWith(`${base}/`))
      ? from.pathname + from.search
      : fallback;
  } catch {
    return fallback;
  }
}

async function existing(deps: ActionDeps, c: C): Promise<{ id: string; record?: EventRecord }> {
  const id = c.req.param("id")!;
  assertId(id);
  return { id, record: await deps.bus.get(id) };
}

/** Publishes the send form's event, or shows the form again with why it failed. */
export async function sendAction(deps: ActionDeps, c: C): Promise<Response> {
  const fields: SendFields = {
    name: field(c, "name"),
    body: field(c, "body"),
    after: field(c, "after"),
    id: field(c, "id"),
  };
  const again = (problem: string) => deps.render(c, sendPage(deps.ctxOf(c), fields, problem), 400);
  let body: unknown;
  try {
    body = JSON.parse(fields.body || "null");
  } catch (error) {
    return again(`The body is not valid JSON (${(error as Error).message})`);
  }
  try {
    const after = httpAfter(fields.after || undefined);
    const options = {
      origin: "dashboard",
      ...(after === undefined ? {} : { after }),
      ...(fields.id ? { id: fields.id } : {}),
    };
    const id = await deps.bus.publish(fields.name ?? "", options, body);
    return deps.done(c, `${c.get("base")}/events/${encodeURIComponent(id)}`, {
      ok: true,
      text: `Published ${fields.name} as ${id}`,
    });
  } catch (error) {
    if (!(error instanceof EdgebusError)) throw error;
    return again(`Not published: ${error.message}`);
  }
}

/** Cancels a scheduled event. */
export async function cancelAction(deps: ActionDeps, c: C): Promise<Response> {
  const { id, record } = await existing(deps, c);
  const to = back(c, `${c.get("base")}/events/${encodeURIComponent(id)}`);
  if (!record) return deps.done(c, to, { ok: false, text: `Cannot cancel ${id}: there is no such event` });
  if (await deps.bus.cancel(id)) return deps.done(c, to, { ok: true, text: `Cancelled ${id}` });
  const text = `Cannot cancel ${id}: it is ${record.status}; only a delayed event not yet due can be cancelled`;
  return deps.done(c, to, { ok: false, text });
}

async function deadOnly(deps: ActionDeps, c: C, verb: string): Promise<{ id: string; refusal?: string }> {
  const { id, record } = await existing(deps, c);
  if (!record) return { id, refusal: `Cannot ${verb} ${id}: there is no such event` };
  if (record.status !== "dead") {
    return { id, refusal: `Cannot ${verb} ${id}: it is ${record.status}, not a dead letter` };
  }
  return { id };
}

/** Replays a dead letter and shows its page, where it runs again. */
export async function replayAction(deps: ActionDeps, c: C): Promise<Response> {
  const { id, refusal } = await deadOnly(deps, c, "replay");
  const to = `${c.get("base")}/events/${encodeURIComponent(id)}`;
  if (refusal) return deps.done(c, back(c, to), { ok: false, text: refusal });
  const ok = await deps.bus.deadLetters.replay(id);
  return deps.done(
    c,
    to,
    ok
      ? { ok: true, text: `Replayed ${id}: its failed handlers run again` }
      : { ok: false, text: `Cannot replay ${id}: it is no longer a dead letter` },
  );
}

/** Deletes a dead letter for good. */
export async function deleteAction(deps: ActionDeps, c: C): Promise<Response> {
  const { id, refusal } = await deadOnly(deps, c, "delete");
  const to = `${c.get("base")}/dead`;
  if (refusal) return deps.done(c, back(c, to), { ok: false, text: refusal });
  const ok = await deps.bus.deadLetters.delete(id);
  return deps.done(
    c,
    to,
    ok
      ? { ok: true, text: `Deleted ${id}` }
      : { ok: false, text: `Cannot delete ${id}: it is no longer a dead letter` },
  );
}

async function matching(bus: Bus, name: string | undefined): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bus.deadLetters.list({ name, cursor, limit: 100, bodyLimit: 0 });
    ids.push(...page.items.map((r) => r.id));
    cursor = page.cursor;
  } while (cursor !== undefined && ids.length < MAX_BULK);
  return ids.slice(0, MAX_BULK);
}

/** Runs `fn` on every id, a few at a time; answers the failures with why. */
async function each(ids: readonly string[], fn: (id: string) => Promise<boolean>): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      try {
        if (!(await fn(id))) failures.push(`${id} (no longer a dead letter)`);
      } catch (error) {
        failures.push(`${id} (${why(error)})`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return failures;
}

/**
 * Replays or deletes the selected dead letters, or every one matching the filter: first a page
 * that asks to confirm, then the action, whose result names each failure.
 */
export async function bulkAction(deps: ActionDeps, c: C): Promise<Response> {
  const form = c.get("form");
  const action = field(c, "action");
  const scope = field(c, "scope") === "all" ? "all" : "selected";
  const name = field(c, "name") || undefined;
  const to = `${c.get("base")}/dead${name ? `?name=${encodeURIComponent(name)}` : ""}`;
  if (action !== "replay" && action !== "delete") {
    return deps.render(c, problemPage(deps.ctxOf(c), "Cannot do that", "Choose replay or delete"), 400);
  }
  const picked = [form.id ?? []].flat().map(String);
  picked.forEach((id) => assertId(id));
  const ids = scope === "all" ? await matching(deps.bus, name) : picked;
  if (ids.length === 0) {
    return deps.done(c, to, { ok: false, text: "Nothing to do: select dead letters, or choose every dead letter" });
  }
  if (field(c, "confirm") !== "yes") {
    const fields = { action, scope, name: name ?? "", ...(scope === "selected" ? { id: ids } : {}) };
    return deps.render(c, confirmPage(deps.ctxOf(c), action, ids, fields));
  }
  const run = action === "replay"
    ? (id: string) => deps.bus.deadLetters.replay(id)
    : (id: string) => deps.bus.deadLetters.delete(id);
  const failures = await each(ids, run);
  const verb = action === "replay" ? "Replayed" : "Deleted";
  const text = `${verb} ${ids.length - failures.length} of ${ids.length} dead letters${
    failures.length ? `; failed: ${failures.slice(0, 10).join(", ")}${failures.length > 10 ? "…" : ""}` : ""
  }`;
  return deps.done(c, to, { ok: failures.length === 0, text });
}
