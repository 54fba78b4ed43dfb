/**
 * The Worker of bench/schedules_bench.ts on `wrangler dev`: declares schedules over HTTP
 * (`POST /schedule/:i`, every minute at second 0), runs their ticks in `queue()`, and answers the
 * ticks' records (`GET /ticks?cursor=`: id and publish time) so the bench can see how late each
 * was published.
 */
import { createBus } from "../mod.ts";
import { cloudflareDriver, worker } from "../adapters/cloudflare/mod.ts";

export { EdgebusScheduler, EdgebusStore } from "../adapters/cloudflare/mod.ts";

const driver = cloudflareDriver({ prefix: "cronbench" });
const bus = createBus({ driver });
bus.on("bench.tick", () => {});

export default worker(bus, {
  driver,
  async fetch(request) {
    const url = new URL(request.url);
    const declare = url.pathname.match(/^\/schedule\/(\d+)$/);
    if (declare && request.method === "POST") {
      const i = Number(declare[1]);
      const declared = await bus.schedule(`s-${i}`, "0 * * * * *", "bench.tick", { i });
      return Response.json({ change: declared.change });
    }
    if (url.pathname === "/list") return Response.json(await bus.schedules.list({ limit: 50 }));
    if (url.pathname === "/ticks") {
      const page = await bus.list({
        name: "bench.tick",
        limit: 1_000,
        bodyLimit: 0,
        ...(url.searchParams.get("cursor") ? { cursor: url.searchParams.get("cursor")! } : {}),
      });
      const items = page.items.map(({ id, time, handlers }) => ({
        id,
        time,
        finishedAt: handlers["bench.tick#1"]?.finishedAt,
      }));
      return Response.json({ items, cursor: page.cursor });
    }
    return new Response("edgebus schedules bench");
  },
});
