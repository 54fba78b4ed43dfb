/** Shared set-up for the router tests: a memory bus, a router and request helpers. */
import { type Bus, createBus, type EventRecord } from "../../mod.ts";
import { router, type RouterOptions, signBody } from "../../adapters/hono/mod.ts";

export const TOKEN = "tok_live_0123456789abcdef";
export const OLD_TOKEN = "tok_old_0123456789abcdef";
export const SECRET = "whsec_0123456789abcdef";
export const OLD_SECRET = "whsec_old_0123456789abcdef";

export interface Setup {
  readonly bus: Bus;
  readonly app: ReturnType<typeof router>;
  /** Sends a request with the token and, for bodies, the JSON content type. */
  send(path: string, init?: { method?: string; body?: string; headers?: Record<string, string> }): Promise<Response>;
  /** Every record the bus holds. */
  records(): Promise<EventRecord[]>;
}

export function setup(options: RouterOptions = { tokens: [TOKEN] }, bus: Bus = createBus()): Setup {
  const app = router(bus, { onError: () => {}, ...options });
  return {
    bus,
    app,
    send(path, init = {}) {
      const { method = init.body === undefined ? "GET" : "POST", body, headers = {} } = init;
      const base: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
      if (body !== undefined) base["content-type"] = "application/json";
      return Promise.resolve(app.request(path, { method, body, headers: { ...base, ...headers } }));
    },
    async records() {
      return (await bus.list({ limit: 1000 })).items;
    },
  };
}

/** The error body of a response, checked to have the documented shape. */
export async function errorOf(response: Response): Promise<{ code: string; message: string; issues?: unknown[] }> {
  const body = await response.json() as { error?: { code?: unknown; message?: unknown; issues?: unknown[] } };
  if (typeof body.error?.code !== "string" || typeof body.error?.message !== "string") {
    throw new Error(`Not an error body: ${JSON.stringify(body)}`);
  }
  return body.error as { code: string; message: string; issues?: unknown[] };
}

/** Headers of a signed request. */
export async function signed(body: string, secret = SECRET, time = Date.now()): Promise<Record<string, string>> {
  return { "edgebus-signature": await signBody(secret, body, time) };
}

/** A request body that counts how many chunks the server pulled. */
export function countingStream(
  chunk: Uint8Array,
  chunks: number,
): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= chunks) return controller.close();
      pulled++;
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
  return { stream, pulled: () => pulled };
}
