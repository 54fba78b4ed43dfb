import { EdgebusError } from "../../mod.ts";
import type { DurableObjectNamespaceLike } from "./platform.ts";

/** The methods a Durable Object answers, by name. */
export type RpcMethods = Readonly<Record<string, (...args: never[]) => unknown>>;

const ORIGIN = "https://edgebus.internal/";

/**
 * Calls a method of the named Durable Object. The objects speak JSON over `fetch`, so that their
 * classes need not extend the platform's `DurableObject` and the adapter needs no
 * `cloudflare:workers` import to define them.
 *
 * @param namespace the binding
 * @param name the object's name (`idFromName`)
 * @param method the method
 * @param args its arguments, as JSON
 * @returns what the method returned
 * @throws {EdgebusError} code `unavailable` when the object failed
 */
export async function callObject<T>(
  namespace: DurableObjectNamespaceLike,
  name: string,
  method: string,
  args: readonly unknown[],
): Promise<T> {
  const stub = namespace.get(namespace.idFromName(name) as never);
  const response = await stub.fetch(ORIGIN + method, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(args),
  });
  const data = await response.json() as { value?: T; error?: string };
  if (!response.ok) {
    throw new EdgebusError(
      "unavailable",
      `Durable Object "${name}" failed in ${method}(): ${data.error ?? response.status}`,
    );
  }
  return data.value as T;
}

/**
 * Answers a {@linkcode callObject} request inside a Durable Object.
 *
 * @param request the request the object's `fetch` received
 * @param methods the methods it offers
 * @returns the JSON response
 */
export async function serveObject(request: Request, methods: RpcMethods): Promise<Response> {
  const method = new URL(request.url).pathname.slice(1);
  const fn = Object.hasOwn(methods, method) ? methods[method] : undefined;
  if (request.method !== "POST" || !fn) {
    return Response.json({ error: `Unknown method ${JSON.stringify(method)}` }, { status: 404 });
  }
  try {
    const args = await request.json() as never[];
    const value = await fn(...args);
    return Response.json({ value });
  } catch (error) {
    return Response.json({ error: error instanceof Error ? error.message : String(error) }, { status: 500 });
  }
}
