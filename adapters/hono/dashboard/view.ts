import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { EventRecord, HandlerResult } from "../../../mod.ts";

/** A piece of HTML, escaped where it holds values. */
export type Html = HtmlEscapedString;

/**
 * The `html` tagged template of `hono/html`, typed as synchronous: every interpolated value is
 * escaped (a body holding `<script>` shows as text), unless it is itself a piece of `Html`.
 */
export const h = (strings: TemplateStringsArray, ...values: unknown[]): Html => html(strings, ...values) as Html;

/** Trusted markup, for the few constant strings that hold tags. */
export const trusted = (markup: string): Html => raw(markup);

/** Joins pieces of HTML. */
export const join = (parts: readonly Html[]): Html => raw(parts.join(""));

/**
 * A timestamp: UTC text for readers without JavaScript, the viewer's time zone with it (UTC on hover).
 *
 * @param ms epoch ms
 * @returns a `<time>` element
 */
export function time(ms: number | undefined): Html {
  if (ms === undefined || !Number.isFinite(ms)) return h`<span class="muted">—</span>`;
  const iso = new Date(ms).toISOString();
  return h`<time datetime="${iso}" title="${iso.replace("T", " ").replace("Z", " UTC")}">${
    iso.slice(0, 19).replace("T", " ")
  } UTC</time>`;
}

/**
 * A duration in words: `850 ms`, `3.2 s`, `4 min`, `2 h`, `3 d`.
 *
 * @param ms the duration
 * @returns the text
 */
export function duration(ms: number): string {
  const abs = Math.abs(ms);
  const text = abs < 1_000
    ? `${Math.round(abs)} ms`
    : abs < 60_000
    ? `${(abs / 1_000).toFixed(1)} s`
    : abs < 3_600_000
    ? `${Math.round(abs / 60_000)} min`
    : abs < 86_400_000
    ? `${(abs / 3_600_000).toFixed(1)} h`
    : `${(abs / 86_400_000).toFixed(1)} d`;
  return ms < 0 ? `-${text}` : text;
}

/**
 * A status badge.
 *
 * @param status an event's or a handler's status
 * @returns the badge
 */
export function badge(status: EventRecord["status"] | HandlerResult["status"]): Html {
  return h`<span class="status s-${status}">${status}</span>`;
}

/**
 * A link to an event's page.
 *
 * @param base the dashboard's path
 * @param id the event id
 * @param text the link text (the id by default)
 * @returns the link
 */
export function eventLink(base: string, id: string, text: string = id): Html {
  return h`<a class="id" href="${base}/events/${encodeURIComponent(id)}">${text}</a>`;
}

/**
 * A body's short preview for a listing (the listing has cut it already).
 *
 * @param record a listed record
 * @returns the preview text
 */
export function preview(record: EventRecord): string {
  const text = record.bodyCut !== undefined ? String(record.body ?? "") : JSON.stringify(record.body) ?? "";
  return record.bodyCut !== undefined || text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/**
 * A URL with query parameters, leaving out empty ones.
 *
 * @param path the path
 * @param params the parameters
 * @returns the URL
 */
export function withQuery(path: string, params: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== "") query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
