import { type Bus, EdgebusError } from "../../mod.ts";
import type { Driver } from "../../driver/mod.ts";
import { MissingBindingError } from "./bindings.ts";
import { consumeBatch } from "./consumer.ts";
import type { CloudflareDriver } from "./driver.ts";
import type { ExecutionContextLike, QueueBatch, WorkerEnv } from "./platform.ts";

/** A Worker's own `fetch` handler. */
export type FetchHandler<E = WorkerEnv> = (
  request: Request,
  env: E,
  ctx: ExecutionContextLike,
) => Response | Promise<Response>;

/** Options of {@linkcode worker}. */
export interface WorkerOptions<E = WorkerEnv> {
  /** The Worker's HTTP handler (a Hono app's `fetch`, for one). @default {a 404 for every request} */
  readonly fetch?: FetchHandler<E>;
  /** The bus's driver; needed while the bus does not expose its driver as `bus.driver`. */
  readonly driver?: CloudflareDriver;
  /** Names of the queues that are `dead_letter_queue` of edgebus queues. @default {["edgebus-dlq"]} */
  readonly deadLetterQueues?: readonly string[];
}

/** The handlers `worker()` returns: export them as the Worker's default export. */
export interface EdgebusWorker<E = WorkerEnv> {
  /** Checks the bindings, then runs the Worker's own `fetch`. */
  fetch(request: Request, env: E, ctx: ExecutionContextLike): Promise<Response>;
  /** Runs a batch of an edgebus queue, or records a dead-letter queue's messages as dead letters. */
  queue(batch: QueueBatch, env: E, ctx: ExecutionContextLike): Promise<void>;
}

function isCloudflareDriver(driver: Driver | undefined): driver is CloudflareDriver {
  const d = driver as Partial<CloudflareDriver> | undefined;
  return typeof d?.useEnv === "function" && typeof d.restore === "function" && typeof d.bindings === "function";
}

function notFound(): Response {
  return Response.json({ error: { code: "not_found", message: "No route here" } }, { status: 404 });
}

/**
 * Makes the Worker's handlers: `fetch` runs yours once the bindings are checked, `queue` runs the
 * bus's handlers message by message. A missing or misnamed binding fails the first request with
 * an error naming the binding and the `wrangler.toml` lines to add.
 *
 * @param bus the bus, created with {@linkcode cloudflareDriver}
 * @param options your `fetch`, the driver, the dead-letter queue names
 * @returns `{ fetch, queue }`
 * @throws {EdgebusError} code `invalid_option` when the bus's driver is not the Cloudflare one
 *
 * @example A Worker
 * ```ts
 * import { createBus } from "../../mod.ts";
 * import { cloudflareDriver, worker } from "./mod.ts";
 * const driver = cloudflareDriver();
 * const bus = createBus({ driver });
 * bus.on("user.joined", async (event) => console.log("welcome", event.body));
 * export default worker(bus, {
 *   driver,
 *   fetch: async () => Response.json({ id: await bus.publish("user.joined", { user_id: "2b6m" }) }, { status: 202 }),
 * });
 * ```
 */
export function worker<E = WorkerEnv>(bus: Bus, options: WorkerOptions<E> = {}): EdgebusWorker<E> {
  const driver = options.driver ?? (bus as Bus & { readonly driver?: Driver }).driver;
  if (!isCloudflareDriver(driver)) {
    throw new EdgebusError(
      "invalid_option",
      "Cannot make the Worker: the bus's driver is not cloudflareDriver(); create the bus with it and pass it as worker(bus, { driver })",
    );
  }
  const { fetch = notFound, deadLetterQueues = ["edgebus-dlq"] } = options;
  const handle = bus.handleBatch.bind(bus);
  // The first call in an isolate starts the bus, which announces its handlers so that other
  // Worker versions wait for them; later calls refresh that at most once a minute (cached).
  const announce = async (): Promise<void> => {
    await bus.start().catch(() => {});
    await driver.keepAnnounced();
  };

  return {
    async fetch(request, env, ctx) {
      driver.useEnv(env as WorkerEnv);
      try {
        await driver.bindings();
      } catch (error) {
        if (!(error instanceof MissingBindingError)) throw error;
        console.error(error.message);
        return Response.json({ error: { code: error.code, message: error.message } }, { status: 500 });
      }
      // A new version that serves requests before its first batch is known to the others sooner;
      // in the background, so that no response waits for it.
      ctx.waitUntil(announce());
      return await fetch(request, env, ctx);
    },
    async queue(batch, env) {
      driver.useEnv(env as WorkerEnv);
      await driver.bindings();
      await announce();
      await consumeBatch(batch, { driver, handle, deadLetterQueues });
    },
  };
}
