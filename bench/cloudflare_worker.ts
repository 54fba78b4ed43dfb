/**
 * The Worker of bench/cloudflare_bench.ts. Two buses: one leaves delays to Queues'
 * `delaySeconds`, the other sends every delayed event through the scheduler object. The raw
 * peers: a Queue `send` with `delaySeconds`, a Durable Object alarm, a bare `send` per POST, and a
 * bare 202.
 * Handlers note how late each event ran; the bench reads the figures back over HTTP.
 */
import { type Bus, createBus, type Event } from "../mod.ts";
import {
  cloudflareDriver,
  type DurableObjectStateLike,
  type EdgebusWorker,
  type ExecutionContextLike,
  type QueueBatch,
  type QueueBinding,
  worker,
  type WorkerEnv,
} from "../adapters/cloudflare/mod.ts";
import { router } from "../adapters/hono/mod.ts";
import { z } from "zod";

/** The router's token; bench/cloudflare_bench.ts sends it. */
const BENCH_TOKEN = "tok_bench_0123456789abcdef";

export { EdgebusScheduler, EdgebusStore } from "../adapters/cloudflare/mod.ts";

/** Lateness (ms) by path, and handled counts by path; one isolate runs everything locally. */
const late: Record<string, number[]> = { queue: [], sched: [], rawQueue: [], rawAlarm: [] };
const handled: Record<string, number> = { tp: 0, raw: 0 };

function makeBus(
  prefix: string,
  options: Parameters<typeof cloudflareDriver>[0],
  http = false,
): { bus: Bus; handlers: EdgebusWorker } {
  const driver = cloudflareDriver({ prefix, ...options });
  // Ingest as a service would run it: the body checked by a zod schema, the router behind a token.
  const bus = createBus({ driver, schemas: { "bench.tp": z.object({ i: z.number() }) } });
  bus.on("bench.late", (event: Event) => void late[prefix].push(Date.now() - (event.time + event.delay)));
  bus.on("bench.tp", () => void handled.tp++);
  const app = http ? router(bus, { tokens: [BENCH_TOKEN] }) : undefined;
  return {
    bus,
    handlers: worker(bus, {
      driver,
      ...(app ? { fetch: (request, env, ctx) => app.fetch(request, env, ctx as never) } : {}),
    }),
  };
}

const viaQueue = makeBus("queue", {}, true);
const viaScheduler = makeBus("sched", { maxQueueDelay: 0, bindings: { queue: "SCHED_QUEUE" } });

/** A raw peer of the scheduler: one alarm per object, set at the due time. */
export class RawAlarm {
  readonly #state: DurableObjectStateLike;
  constructor(state: DurableObjectStateLike) {
    this.#state = state;
  }
  async fetch(request: Request): Promise<Response> {
    const { due } = await request.json() as { due: number };
    this.#state.storage.sql.exec("CREATE TABLE IF NOT EXISTS due (at INTEGER)");
    this.#state.storage.sql.exec("DELETE FROM due");
    this.#state.storage.sql.exec("INSERT INTO due (at) VALUES (?)", due);
    await this.#state.storage.setAlarm(due);
    return new Response("ok");
  }
  alarm(): void {
    const [row] = this.#state.storage.sql.exec("SELECT at FROM due").toArray();
    late.rawAlarm.push(Date.now() - Number(row.at));
  }
}

interface DelayedRequest {
  readonly path: "queue" | "sched" | "rawQueue" | "rawAlarm";
  readonly delays: number[];
}

async function delayed(env: WorkerEnv, { path, delays }: DelayedRequest): Promise<void> {
  const now = Date.now();
  if (path === "queue" || path === "sched") {
    const bus = path === "queue" ? viaQueue.bus : viaScheduler.bus;
    for (let i = 0; i < delays.length; i += 100) {
      await bus.publishBatch(delays.slice(i, i + 100).map((after) => ({ name: "bench.late", body: {}, after })));
    }
  } else if (path === "rawQueue") {
    const queue = env.RAW_QUEUE as QueueBinding;
    for (let i = 0; i < delays.length; i += 100) {
      await queue.sendBatch(
        delays.slice(i, i + 100).map((d) => ({
          body: { due: now + d },
          delaySeconds: Math.ceil(d / 1000),
        })),
      );
    }
  } else {
    const ns = env.RAW_ALARM as { idFromName(n: string): unknown; get(id: unknown): { fetch: typeof fetch } };
    await Promise.all(delays.map((d, i) =>
      ns.get(ns.idFromName(`alarm-${now}-${i}`)).fetch("http://raw/", {
        method: "POST",
        body: JSON.stringify({ due: now + d }),
      })
    ));
  }
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContextLike): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/bench/delayed") {
      await delayed(env, await request.json() as DelayedRequest);
      return Response.json({ ok: true }, { status: 202 });
    }
    if (url.pathname === "/bench/results") return Response.json({ late, handled });
    if (url.pathname === "/bench/publish") {
      return Response.json({ id: await viaQueue.bus.publish("bench.tp", await request.json()) }, { status: 202 });
    }
    if (url.pathname === "/bench/bare") return new Response(null, { status: 202 });
    if (url.pathname === "/bench/raw") {
      await (env.RAW_QUEUE as QueueBinding).send({ tp: true });
      return Response.json({ ok: true }, { status: 202 });
    }
    return viaQueue.handlers.fetch(request, env, ctx);
  },
  async queue(batch: QueueBatch, env: WorkerEnv, ctx: ExecutionContextLike): Promise<void> {
    if (batch.queue === "bench-raw") {
      for (const message of batch.messages) {
        const body = message.body as { due?: number };
        if (body.due === undefined) handled.raw++;
        else late.rawQueue.push(Date.now() - body.due);
        message.ack();
      }
      return;
    }
    const target = batch.queue === "bench-sched" ? viaScheduler : viaQueue;
    await target.handlers.queue(batch, env, ctx);
  },
};
