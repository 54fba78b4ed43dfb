import type { WorkerEnv } from "./platform.ts";

/**
 * The Worker's environment from `cloudflare:workers`, which workerd offers anywhere in the
 * Worker (in `fetch`, in `queue`, inside Durable Objects), so that `bus.publish` needs no `env`
 * threaded through. The specifier is kept out of static imports so that the module also loads
 * (and type-checks) outside workerd; there the environment is empty.
 *
 * @returns the environment, or an empty one outside workerd
 */
export async function platformEnv(): Promise<WorkerEnv> {
  const specifier = "cloudflare:workers";
  try {
    const workers = await import(specifier) as { env?: WorkerEnv };
    return workers.env ?? {};
  } catch {
    return {};
  }
}
