import { EdgebusError } from "../../mod.ts";
import type { DurableObjectNamespaceLike, DurableObjectStubLike } from "./platform.ts";

/** The methods a Durable Object answers, by name. */
export type RpcMethods = Readonly<Record<string, (...args: never[]) => unknown>>;

const ORIGIN = "https://edgebus.internal/";

/**
 * What workerd answers when the object's class does not extend `DurableObject` (an older release)
 * or lacks the method; the last form is `@cloudflare/vitest-pool-workers`' wording of the first.
 */
export const NO_RPC: RegExp = /does not support RPC|does not implement|subclass of `DurableObject` for RPC/;

function unavailable(name: string, method: string, reason: unknown): EdgebusError {
  const message = reason instanceof Error ? reason.message : String(reason);
  return new EdgebusError("unavailable", `Durable Object "${name}" failed in ${method}(): ${message}`, {
    cause: reason,
  });
}

/**
 * Calls a method of the named Durable Object: through Workers RPC when the stub offers it (the
 * objects extend `DurableObject` inside workerd), else, or when the object runs an older release
 * that answers only `fetch`, with JSON over `fetch`.
 *
 * @param namespace the binding
 * @param name the object's name (`idFromName`)
 * @param method the method
 * @param args its arguments (structured-cloneable; JSON when it falls back to `fetch`)
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
  const rpc = stub as unknown as Record<string, ((...args: unknown[]) => Promise<T>) | undefined>;
  if (typeof rpc[method] === "function") {
    try {
      return await rpc[method](...args);
    } catch (error) {
      if (!NO_RPC.test(error instanceof Error ? error.message : "")) throw unavailable(name, method, error);
    }
  }
  return await fetchObject<T>(stub, name, method, args);
}

async function fetchObject<T>(
  stub: DurableObjectStubLike,
  name: string,
  method: string,
  args: readonly unknown[],
): Promise<T> {
  const response = await stub.fetch(ORIGIN + method, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(args),
  });
  const data = await response.json() as { value?: T; error?: string };
  if (!response.ok) throw unavailable(name, method, data.error ?? response.status);
  return data.value as T;
}

/**
 * Answers a {@linkcode callObject} request that came over `fetch` inside a Durable Object: the
 * calls of a driver of an older release, or of a stub without RPC.
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
