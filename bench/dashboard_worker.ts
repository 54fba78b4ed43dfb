/**
 * The Worker of bench/dashboard_bench.ts: the dashboard at /ui, and /bench/fill, which writes
 * records straight into the store objects (see dashboard_fill.ts).
 */
import { Hono } from "hono";
import { createBus } from "../mod.ts";
import { cloudflareDriver, worker } from "../adapters/cloudflare/mod.ts";
import { dashboard } from "../adapters/hono/mod.ts";
import { benchRecord, TOKEN } from "./dashboard_fill.ts";

export { EdgebusScheduler, EdgebusStore } from "../adapters/cloudflare/mod.ts";

const driver = cloudflareDriver({ prefix: "dash" });
const bus = createBus({ driver });
const app = new Hono()
  .post("/bench/fill", async (c) => {
    const from = Number(c.req.query("from"));
    const count = Number(c.req.query("count"));
    const start = Number(c.req.query("start"));
    const records = Array.from({ length: count }, (_, k) => benchRecord(from + k, start));
    await bus.driver.store.create(records, 0);
    return c.json({ created: count });
  })
  .route("/ui", dashboard(bus, { tokens: [TOKEN] }));

export default worker(bus, { driver, fetch: (request, env, ctx) => app.fetch(request, env, ctx as never) });
