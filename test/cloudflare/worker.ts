/**
 * The Worker the workerd tests run in: the adapter's Durable Objects, a user's own Durable
 * Object that publishes, and a `queue()` that hands each message to the test that sent it.
 */
import type { DurableObjectStateLike, QueueBatch, WorkerEnv } from "../../adapters/cloudflare/mod.ts";
import { moduleBus } from "./do_bus.ts";
import { deliver } from "./harness.ts";

export { EdgebusScheduler, EdgebusStore } from "../../adapters/cloudflare/mod.ts";
export { OutboxObject } from "./outbox_object.ts";

/** A user's own Durable Object that publishes with the module-scope bus, without an `env`. */
export class PublisherObject {
  constructor(_state: DurableObjectStateLike, _env: WorkerEnv) {}

  async fetch(request: Request): Promise<Response> {
    const { name, body } = await request.json() as { name: string; body: unknown };
    return Response.json({ id: await moduleBus.publish(name, body) });
  }
}

export default {
  fetch(): Response {
    return new Response("edgebus test worker");
  },
  async queue(batch: QueueBatch, env: WorkerEnv): Promise<void> {
    if (batch.queue === "edgebus-crash-test") throw new Error("the consumer crashed on purpose");
    await deliver(batch, env);
  },
};
