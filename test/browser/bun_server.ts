/**
 * The browser test's second target: the router and the dashboard on `Bun.serve`, over NATS
 * JetStream, with the example Worker's handlers (a chain, a scheduled follow-up, a handler that
 * refuses until a time), and a read-only dashboard at `/ro`. Started by dashboard.browser.ts with
 * NATS_URL, PORT and EDGEBUS_TOKEN.
 */
import process from "node:process";
import { Hono } from "hono";
import { createBus, NonRetriableError } from "../../mod.ts";
import { natsDriver } from "../../adapters/nats/mod.ts";
import { dashboard, router } from "../../adapters/hono/mod.ts";

const bus = createBus({
  driver: natsDriver({ servers: process.env.NATS_URL!, prefix: `ui${process.pid}` }),
  retry: { minDelay: 500, maxAttempts: 3 },
});
bus.on("user.joined", { id: "send-welcome-email" }, async (event, ctx) => {
  await ctx.publish("email.sent", { template: "welcome", to: (event.body as { email?: string }).email });
});
bus.on("user.joined", { id: "schedule-follow-up" }, async (event, ctx) => {
  await ctx.publish("user.follow-up", { after: "2 days", id: `follow-up-${event.id}` }, event.body);
});
bus.on("user.follow-up", () => {});
bus.on("email.sent", () => {});
bus.on<{ failUntil?: number }>("demo.fails", (event) => {
  const until = event.body?.failUntil ?? Infinity;
  if (Date.now() < until) throw new NonRetriableError(`demo.fails refuses until ${new Date(until).toISOString()}`);
});
await bus.start();

const tokens = [process.env.EDGEBUS_TOKEN!];
const app = new Hono()
  .get("/", (c) => c.redirect("/ui"))
  .route("/ui", dashboard(bus, { tokens, pollInterval: 1_000 }))
  .route("/ro", dashboard(bus, { tokens, readOnly: true }))
  .route("/", router(bus, { tokens }));
// deno-lint-ignore no-explicit-any
const server = (globalThis as any).Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT),
  fetch: app.fetch,
});
console.log("ready");
process.on("SIGTERM", async () => {
  server.stop();
  await bus.stop();
  process.exit(0);
});
