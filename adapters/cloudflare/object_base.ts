import type { DurableObjectStateLike, WorkerEnv } from "./platform.ts";

/** A class edgebus's Durable Objects extend: the platform's `DurableObject`, or a plain one. */
export interface ObjectBaseClass {
  /** Keeps the state and environment (the platform's base class does; the plain one ignores them). */
  new (state: DurableObjectStateLike, env: WorkerEnv): object;
}

/** Outside workerd: a base that does nothing, so that the classes load (and type-check) anywhere. */
class PlainObject {
  constructor(_state: DurableObjectStateLike, _env: WorkerEnv) {}
}

async function platformBase(): Promise<ObjectBaseClass> {
  // A variable specifier keeps `cloudflare:workers` out of static imports: bundlers (wrangler's
  // esbuild) leave the import to run time, and type checkers, `deno doc` and Node never resolve it.
  const specifier = "cloudflare:workers";
  try {
    const workers = await import(specifier) as { DurableObject?: ObjectBaseClass };
    if (typeof workers.DurableObject === "function") return workers.DurableObject;
  } catch {
    // Not inside workerd.
  }
  return PlainObject;
}

/**
 * The base class of `EdgebusStore` and `EdgebusScheduler`: inside workerd, `DurableObject` from
 * `cloudflare:workers`, which lets the driver call their methods through Workers RPC; elsewhere
 * a plain class, so that `edgebus/cloudflare` loads in Node, Deno and Bun too.
 */
export const ObjectBase: ObjectBaseClass = await platformBase();
