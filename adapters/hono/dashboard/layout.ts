import { h, type Html, join } from "./view.ts";

/** What every page knows about the viewer and the dashboard. */
export interface PageContext {
  /** The dashboard's path (`/ui`), to build links. */
  readonly base: string;
  /** The page title in the header. */
  readonly title: string;
  /** The CSRF token forms carry. */
  readonly csrf: string;
  /** Whether actions are hidden. */
  readonly readOnly: boolean;
  /** Whether a sign-out button is shown. */
  readonly signedIn: boolean;
  /** The result of the last action, shown once. */
  readonly flash?: { readonly ok: boolean; readonly text: string };
  /** How often live pages poll, ms (0: never). */
  readonly pollInterval: number;
}

/** What a page hands to the layout. */
export interface PageOptions {
  /** The `<title>`, and the `<h1>` unless the body has its own. */
  readonly title: string;
  /** Which navigation entry is current. */
  readonly nav?: "events" | "scheduled" | "dead" | "send";
  /** A URL answering `{ stamp }`; the page reloads its content when the stamp changes. */
  readonly live?: { readonly url: string; readonly stamp: string };
}

const NAV = [
  ["events", "Events", ""],
  ["scheduled", "Scheduled", "/scheduled"],
  ["dead", "Dead letters", "/dead"],
  ["send", "Send an event", "/send"],
] as const;

/**
 * The page around a body: header, navigation, the last action's result, live-update control.
 *
 * @param ctx the viewer and the dashboard
 * @param options the title, the current navigation entry and live updates
 * @param body the page's content
 * @returns the whole page
 */
export function layout(ctx: PageContext, options: PageOptions, body: Html): Html {
  const { base } = ctx;
  const links = NAV.filter(([key]) => key !== "send" || !ctx.readOnly).map(([key, text, path]) =>
    h`<li><a href="${path ? base + path : base || "/"}"${
      options.nav === key ? h` aria-current="page"` : ""
    }>${text}</a></li>`
  );
  const live = options.live && ctx.pollInterval > 0
    ? h`<div class="live row" data-live="${options.live.url}" data-stamp="${options.live.stamp}" data-every="${ctx.pollInterval}">
<span class="muted" data-state aria-live="polite"></span><button type="button" aria-pressed="false">Pause live updates</button></div>`
    : "";
  const signOut = ctx.signedIn
    ? h`<form method="post" action="${base}/logout"><input type="hidden" name="_csrf" value="${ctx.csrf}"><button>Sign out</button></form>`
    : "";
  const flash = ctx.flash
    ? h`<p class="flash${ctx.flash.ok ? "" : " error"}" role="${
      ctx.flash.ok ? "status" : "alert"
    }">${ctx.flash.text}</p>`
    : "";
  return h`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · ${ctx.title}</title><link rel="stylesheet" href="${base}/assets/dashboard.css">
<script src="${base}/assets/dashboard.js" defer></script></head>
<body><header><strong>${ctx.title}</strong><nav aria-label="Dashboard"><ul>${join(links)}</ul></nav>${
    ctx.readOnly ? h`<span class="muted">read-only</span>` : ""
  }${live}${signOut}</header>
<main>${flash}${body}</main></body></html>`;
}

/**
 * A page that says what went wrong (404, a bad filter, a refused action), with a way back.
 *
 * @param ctx the viewer and the dashboard
 * @param title the heading
 * @param message what went wrong and what to do
 * @returns the page
 */
export function problemPage(ctx: PageContext, title: string, message: string): Html {
  return layout(
    ctx,
    { title },
    h`<h1>${title}</h1><p role="alert">${message}</p><p><a href="${ctx.base || "/"}">Back to the events</a></p>`,
  );
}
