import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { assertId, type Bus } from "../../../mod.ts";
import { HttpError } from "../http_error.ts";
import { toErrorAnswer } from "../status.ts";
import { bulkAction, cancelAction, deleteAction, replayAction, sendAction } from "./actions.ts";
import { CSS, JS } from "./assets.ts";
import { chainPage, MAX_CHAIN_NODES } from "./chain_page.ts";
import { eventPage } from "./event_page.ts";
import { eventsPage, readFilters } from "./events_page.ts";
import { type PageContext, problemPage } from "./layout.ts";
import { deadPage, loginPage, scheduledPage, sendPage } from "./lists_page.ts";
import { assertDashboardOptions, type DashboardOptions } from "./options.ts";
import { csrfMatches, randomCsrf, tokenSessions } from "./session.ts";
import { stampOf } from "./stamp.ts";
import type { Html } from "./view.ts";

/** The Hono environment of the dashboard: what its middleware hands to the pages. */
export interface DashboardEnv {
  /** Values set per request. */
  Variables: {
    /** The path the dashboard is mounted at (`/ui`), to build links. */
    base: string;
    /** The CSRF token forms carry. */
    csrf: string;
    /** Whether the viewer signed in (false without auth). */
    signedIn: boolean;
    /** The last action's result, shown once. */
    flash: { ok: boolean; text: string } | undefined;
    /** The fields of a POSTed form, checked for CSRF. */
    form: Record<string, string | string[]>;
  };
}

type C = Context<DashboardEnv>;

const SESSION = "edgebus_session";
const CSRF = "edgebus_csrf";
const FLASH = "edgebus_flash";
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * A dashboard of a bus, as a Hono app to mount beside the router: events with counts, filters
 * and live updates; an event with its handlers and timeline; its causation chain as a tree;
 * scheduled events (cancel); dead letters (replay, delete, in bulk); a form to send an event.
 * Pages are rendered on the server, escape every value, read without JavaScript, and are served
 * whole from the package: no build step and no static-asset binding, on Workers, Deno, Bun and
 * Node alike.
 *
 * Viewers sign in with one of `tokens` (the router's bearer tokens): an HttpOnly, SameSite=Strict
 * cookie (Secure on https) holds an HMAC keyed by the token, never the token; every form that
 * changes state carries a CSRF token of the session. `readOnly: true` hides and refuses actions.
 *
 * @param bus the bus to show and steer
 * @param options the tokens (required, or `auth: false`), `readOnly`, the session length, polling
 * @returns a Hono app
 * @throws {EdgebusError} code `invalid_option` when no auth is configured and `auth: false` was not given
 *
 * @example Mount it at /ui beside the router
 * ```ts
 * import { Hono } from "hono";
 * import { createBus } from "../../../mod.ts";
 * import { dashboard, router } from "../mod.ts";
 *
 * const bus = createBus();
 * const tokens = ["tok_0123456789abcdef"];
 * const app = new Hono().route("/", router(bus, { tokens })).route("/ui", dashboard(bus, { tokens }));
 * console.log((await app.request("/ui")).status); // 302: to the sign-in form
 * await bus.stop();
 * ```
 */
export function dashboard(bus: Bus, options: DashboardOptions = {}): Hono<DashboardEnv> {
  assertDashboardOptions(options);
  const { tokens, readOnly = false, sessionTtl = 43_200_000, pollInterval = 3_000, title = "edgebus" } = options;
  const { onError = console.error, now = Date.now } = options;
  const sessions = tokens ? tokenSessions(tokens, sessionTtl, now) : undefined;
  const app = new Hono<DashboardEnv>();

  const ctxOf = (c: C): PageContext => ({
    base: c.get("base") ?? "",
    title,
    csrf: c.get("csrf") ?? "",
    readOnly,
    signedIn: c.get("signedIn") ?? false,
    flash: c.get("flash"),
    pollInterval,
  });
  const cookie = (c: C, maxAge?: number) => ({
    path: c.get("base") || "/",
    httpOnly: true,
    secure: new URL(c.req.url).protocol === "https:",
    sameSite: "Strict" as const,
    ...(maxAge === undefined ? {} : { maxAge }),
  });
  const render = (c: C, page: Html, status: 200 | 400 | 401 | 403 | 404 = 200) => c.html(page, status);
  const local = (c: C) => c.req.path.slice(c.get("base").length) || "/";
  const safeNext = (c: C, next: unknown): string => {
    const base = c.get("base");
    const home = base || "/";
    const inside = typeof next === "string" &&
      (next === home || next.startsWith(`${base}/`) || next.startsWith(`${home}?`));
    return inside && !next.startsWith("//") && !next.includes("\\") ? next : home;
  };
  const done = (c: C, to: string, flash: { ok: boolean; text: string }) => {
    setCookie(c, FLASH, JSON.stringify(flash), cookie(c, 60));
    return c.redirect(to, 303);
  };

  app.use("*", async (c, next) => {
    c.set("base", c.req.routePath.replace(/\/?\*$/, ""));
    c.set("signedIn", false);
    const flash = getCookie(c, FLASH);
    if (flash) {
      try {
        c.set("flash", JSON.parse(flash));
      } catch { /* a flash we did not write: ignore it */ }
      deleteCookie(c, FLASH, cookie(c));
    }
    await next();
    c.header("Content-Security-Policy", CSP);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "same-origin");
    if (!c.res.headers.has("cache-control")) c.header("Cache-Control", "no-store");
  });

  const asset = (type: string, text: string) => (c: C) =>
    c.body(text, 200, { "content-type": `${type}; charset=utf-8`, "cache-control": "public, max-age=3600" });
  app.get("/assets/dashboard.css", asset("text/css", CSS));
  app.get("/assets/dashboard.js", asset("text/javascript", JS));

  app.get("/login", (c) => {
    if (!sessions) return c.redirect(c.get("base") || "/", 302);
    return render(c, loginPage(ctxOf(c), safeNext(c, c.req.query("next"))));
  });
  app.post("/login", async (c) => {
    if (!sessions) return c.redirect(c.get("base") || "/", 303);
    const form = await c.req.parseBody();
    const next = safeNext(c, form.next);
    const token = typeof form.token === "string" ? form.token.trim() : "";
    try {
      if (token === "") throw new HttpError(401, "unauthorized", "Enter an API token");
      setCookie(c, SESSION, await sessions.signIn(token), cookie(c, Math.floor(sessionTtl / 1000)));
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      const why = error.status === 401 ? "Enter an API token" : "That token is not accepted";
      return render(c, loginPage(ctxOf(c), next, why), error.status as 401 | 403);
    }
    return c.redirect(next, 303);
  });

  app.use("*", async (c, next) => {
    const api = local(c).startsWith("/api/");
    if (sessions) {
      const session = await sessions.read(getCookie(c, SESSION));
      if (!session) {
        if (api) return c.json({ error: { code: "unauthorized", message: "Sign in first" } }, 401);
        if (c.req.method === "GET") {
          const url = new URL(c.req.url);
          return c.redirect(`${c.get("base")}/login?next=${encodeURIComponent(url.pathname + url.search)}`, 302);
        }
        return render(c, problemPage(ctxOf(c), "Sign in first", "Your session has ended: sign in again."), 401);
      }
      c.set("csrf", session.csrf);
      c.set("signedIn", true);
    } else {
      let token = getCookie(c, CSRF);
      if (!token || !/^[0-9a-f]{32}$/.test(token)) setCookie(c, CSRF, token = randomCsrf(), cookie(c));
      c.set("csrf", token);
    }
    if (c.req.method === "POST") {
      const form = await c.req.parseBody({ all: true }) as Record<string, string | string[]>;
      if (!csrfMatches(c.get("csrf"), form._csrf)) {
        const why = "The form was not sent from this dashboard's page (or the page is stale): reload it and try again.";
        return render(c, problemPage(ctxOf(c), "Refused", why), 403);
      }
      if (readOnly && local(c) !== "/logout") {
        return render(c, problemPage(ctxOf(c), "Read-only", "This dashboard is read-only: it changes nothing."), 403);
      }
      c.set("form", form);
    }
    await next();
  });

  app.post("/logout", (c) => {
    deleteCookie(c, SESSION, cookie(c));
    return c.redirect(`${c.get("base")}/login`, 303);
  });

  app.get("/", async (c) => {
    const filters = readFilters((key) => c.req.query(key));
    return render(c, await eventsPage(bus, ctxOf(c), filters, new URL(c.req.url).search.slice(1)));
  });
  app.get("/find", (c) => {
    const id = (c.req.query("id") ?? "").trim();
    assertId(id);
    return c.redirect(`${c.get("base")}/events/${encodeURIComponent(id)}`, 302);
  });
  const recordOr404 = async (c: C) => {
    const id = c.req.param("id")!;
    assertId(id);
    const record = await bus.get(id);
    if (!record) throw new HttpError(404, "not_found", `No event with id ${JSON.stringify(id)}`);
    return record;
  };
  app.get("/events/:id", async (c) => render(c, eventPage(ctxOf(c), await recordOr404(c))));
  app.get("/events/:id/chain", async (c) => {
    const record = await recordOr404(c);
    const page = await bus.list({ correlationId: record.correlationId, limit: MAX_CHAIN_NODES, bodyLimit: 0 });
    const items = page.items.some((r) => r.id === record.id) ? page.items : [...page.items, record];
    return render(c, chainPage(ctxOf(c), record, items, page.cursor !== undefined));
  });
  app.get(
    "/scheduled",
    async (c) => render(c, await scheduledPage(bus, ctxOf(c), c.req.query("cursor") || undefined, now())),
  );
  app.get("/dead", async (c) => {
    const { name, cursor } = c.req.query();
    return render(c, await deadPage(bus, ctxOf(c), name || undefined, cursor || undefined));
  });
  app.get("/send", (c) => {
    if (readOnly) {
      return render(c, problemPage(ctxOf(c), "Read-only", "This dashboard is read-only: it sends nothing."), 403);
    }
    return render(c, sendPage(ctxOf(c)));
  });
  app.get("/api/stamp", async (c) => c.json({ stamp: await stampOf(bus, new URL(c.req.url).searchParams) }));

  const actionDeps = { bus, ctxOf, render, done };
  app.post("/send", (c) => sendAction(actionDeps, c));
  app.post("/events/:id/cancel", (c) => cancelAction(actionDeps, c));
  app.post("/dead/bulk", (c) => bulkAction(actionDeps, c));
  app.post("/dead/:id/replay", (c) => replayAction(actionDeps, c));
  app.post("/dead/:id/delete", (c) => deleteAction(actionDeps, c));

  app.notFound((c) => render(c, problemPage(ctxOf(c), "Not found", `No page ${c.req.path}`), 404));
  app.onError((error, c) => {
    const answer = toErrorAnswer(error);
    if (answer.status === 500) onError(error);
    const heading = answer.status === 404 ? "Not found" : answer.status >= 500 ? "Something failed" : "Cannot do that";
    return c.html(problemPage(ctxOf(c), heading, answer.body.error.message), answer.status);
  });
  return app;
}
