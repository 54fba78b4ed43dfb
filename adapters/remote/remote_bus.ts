import { EdgebusError, type ErrorCode, type EventRecord, type PublishItem, type PublishOptions } from "../../mod.ts";
// The signing scheme has one home, the router's; that file imports no library.
import { SIGNATURE_HEADER, signBody } from "../hono/signature.ts";

/** Options of {@linkcode remoteBus}. */
export interface RemoteBusOptions {
  /** A bearer token the router accepts (its `tokens` option). */
  readonly token?: string;
  /** Signs each request body with this secret (one of the router's `signingSecrets`). */
  readonly signingSecret?: string;
  /** How long one request may take, ms. @default {10000} */
  readonly timeout?: number;
  /** The fetch to use (a service binding's `fetch`, a test's `app.request`). @default {globalThis.fetch} */
  readonly fetch?: (request: Request) => Promise<Response>;
  /** The clock for signatures, epoch ms. @default {Date.now} */
  readonly now?: () => number;
}

/** A bus reached over HTTP through the edgebus router. */
export interface RemoteBus {
  /** Publishes now; resolves to the event id. */
  publish(name: string, body?: unknown): Promise<string>;
  /** Publishes with options (`after`, `id`, `correlationId`, `origin`: `http` when not given). */
  publish(name: string, options: PublishOptions, body: unknown): Promise<string>;
  /** Publishes 1 to 100 events, all or none; resolves to their ids in order. */
  publishBatch(items: readonly PublishItem[]): Promise<string[]>;
  /** The record of an event, or `undefined`. */
  get(id: string): Promise<EventRecord | undefined>;
}

/** An error the router answered, or a request that did not reach it. */
export class RemoteBusError extends EdgebusError {
  /** The HTTP status, or 0 when no answer came. */
  readonly status: number;
  /** The router's own error code (`invalid_name`, `unauthorized`, `rate_limited`...). */
  readonly remoteCode: string;

  /**
   * Makes the error.
   *
   * @param status the HTTP status, 0 without an answer
   * @param remoteCode the router's code
   * @param message the router's message
   * @param options `cause` is passed through
   */
  constructor(status: number, remoteCode: string, message: string, options?: ErrorOptions) {
    super(codeOf(status, remoteCode), message, options);
    this.name = "RemoteBusError";
    this.status = status;
    this.remoteCode = remoteCode;
  }
}

const INPUT_CODES = new Set<string>([
  "invalid_name",
  "invalid_delay",
  "invalid_id",
  "invalid_body",
  "invalid_option",
  "too_large",
  "not_serializable",
]);

/** Refusals of the input keep their code; everything else (auth, limits, outages) is `unavailable`. */
function codeOf(status: number, remoteCode: string): ErrorCode {
  if (status === 400 || status === 413 || status === 415) {
    return INPUT_CODES.has(remoteCode) ? remoteCode as ErrorCode : status === 413 ? "too_large" : "invalid_option";
  }
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  return "unavailable";
}

function httpAfter(after: PublishOptions["after"]): string | undefined {
  if (after === undefined) return undefined;
  return after instanceof Date ? after.toISOString() : String(after);
}

/**
 * A client of the edgebus router (`router(bus, ...)` from `edgebus/hono`): publishes into a bus
 * that runs elsewhere, such as a Worker, from any service. It is a relay target for the Postgres
 * outbox. Ids are kept, so a publish retried with its id is one event.
 *
 * @param url where the router is mounted, such as `https://app.example.com/bus`
 * @param options bearer token, signing secret, timeout, fetch
 * @returns the client
 * @throws {EdgebusError} code `invalid_option` for a URL that is not http(s)
 *
 * @example Publish into a Worker
 * ```ts ignore
 * import { remoteBus } from "@edgebus/edgebus/remote";
 * const bus = remoteBus("https://app.example.com/bus", { token: Deno.env.get("EDGEBUS_TOKEN") });
 * await bus.publish("user.joined", { after: "1 day", id: "join-2b6m" }, { user_id: "2b6m" });
 * ```
 */
export function remoteBus(url: string, options: RemoteBusOptions = {}): RemoteBus {
  const { token, signingSecret, timeout = 10_000, now = Date.now } = options;
  const send = options.fetch ?? ((request: Request) => fetch(request));
  let base: URL;
  try {
    base = new URL(url.endsWith("/") ? url : `${url}/`);
  } catch {
    base = new URL("invalid:");
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new EdgebusError("invalid_option", `Invalid router URL ${JSON.stringify(url)}: expected http(s)://...`);
  }

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (text !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    if (signingSecret) headers[SIGNATURE_HEADER] = await signBody(signingSecret, text ?? "", now());
    const request = new Request(new URL(path, base), {
      method,
      headers,
      body: text,
      signal: AbortSignal.timeout(timeout),
    });
    let response: Response;
    try {
      response = await send(request);
    } catch (error) {
      throw new RemoteBusError(0, "unreachable", `Cannot reach the router at ${base.href}: ${error}`, { cause: error });
    }
    const answer = await response.json().catch(() => undefined) as
      | { error?: { code?: string; message?: string } }
      | undefined;
    if (!response.ok) {
      const { code = "http_error", message = `HTTP ${response.status}` } = answer?.error ?? {};
      throw new RemoteBusError(response.status, code, `The router refused ${method} /${path}: ${message}`);
    }
    return answer as T;
  }

  return {
    async publish(name: string, ...args: unknown[]): Promise<string> {
      const [opts, body] = args.length >= 2 ? [args[0] as PublishOptions, args[1]] : [{} as PublishOptions, args[0]];
      if (typeof opts !== "object" || opts === null) {
        throw new EdgebusError("invalid_option", `Cannot publish "${name}": the second argument must be the options`);
      }
      const query = new URLSearchParams();
      const after = httpAfter(opts.after);
      if (after !== undefined) query.set("after", after);
      if (opts.id !== undefined) query.set("id", opts.id);
      if (opts.correlationId !== undefined) query.set("correlationId", opts.correlationId);
      if (opts.origin !== undefined) query.set("origin", opts.origin);
      const qs = query.size ? `?${query}` : "";
      const answer = await call<{ id: string }>("POST", `publish/${encodeURIComponent(name)}${qs}`, body ?? null);
      return answer.id;
    },
    async publishBatch(items) {
      if (!Array.isArray(items) || items.length === 0 || items.length > 100) {
        throw new EdgebusError("invalid_option", `Cannot publish a batch of ${items?.length}: send 1 to 100 events`);
      }
      const events = items.map(({ name, body, after, id, correlationId, origin }) => ({
        name,
        body: body ?? null,
        after: typeof after === "number" ? after : httpAfter(after),
        id,
        correlationId,
        origin,
      }));
      return (await call<{ ids: string[] }>("POST", "events", events)).ids;
    },
    async get(id) {
      try {
        return await call<EventRecord>("GET", `events/${encodeURIComponent(id)}`);
      } catch (error) {
        if (error instanceof RemoteBusError && error.status === 404) return undefined;
        throw error;
      }
    },
  } as RemoteBus;
}
