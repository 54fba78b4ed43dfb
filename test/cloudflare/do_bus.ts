/**
 * A bus at module scope, as a Worker author writes it: its driver is given no `env`. The test
 * Worker's own Durable Object publishes with it.
 */
import { type Bus, createBus } from "../../mod.ts";
import { cloudflareDriver, type EdgebusWorker, worker } from "../../adapters/cloudflare/mod.ts";
import { type Consume, freshPrefix, track } from "./harness.ts";

const driver = track(cloudflareDriver({ prefix: freshPrefix("module") }), () => consume);

/** The module-scope bus. */
export const moduleBus: Bus = createBus({ driver });

/** Its Worker handlers. */
export const moduleWorker: EdgebusWorker = worker(moduleBus, { driver });

const consume: Consume = (batch, env) => moduleWorker.queue(batch, env, { waitUntil: () => {} });
