/**
 * A Bun service: the edgebus HTTP API (Hono) and the dashboard (`/ui`) on `Bun.serve`, and handlers run against NATS
 * JetStream over WebSocket. Start nats-server with JetStream and WebSocket first (see the
 * README), then:
 *
 *   EDGEBUS_TOKEN=change-me-0123456789 bun examples/bun.ts
 *   curl -X POST -H 'Authorization: Bearer change-me-0123456789' -H 'Content-Type: application/json' \
 *     -d '{"user_id":"2b6m"}' 'http://127.0.0.1:8787/publish/user.joined?after=5%20seconds'
 */
import process from "node:process";
import { createBus } from "../mod.ts";
import { natsDriver } from "../adapters/nats/mod.ts";
import { Hono } from "hono";
import { dashboard, router } from "../adapters/hono/mod.ts";

const bus = createBus({
  driver: natsDriver({
    servers: process.env.NATS_URL ?? "ws://127.0.0.1:8080",
    group: process.env.EDGEBUS_GROUP ?? "example",
  }),
});

bus.on("user.joined", { id: "welcome" }, async (event, ctx) => {
  console.log(`user.joined #${event.attempt}`, event.body);
  await ctx.publish("email.welcome", { after: "2 seconds" }, { user: event.body });
});
bus.on("email.welcome", { id: "send-email" }, (event) => console.log("email.welcome", event.body));

await bus.start();
const token = process.env.EDGEBUS_TOKEN;
const auth = token ? { tokens: [token] } : { auth: false as const };
// The dashboard at /ui (sign in with the token), the HTTP API beside it.
const app = new Hono().route("/ui", dashboard(bus, auth)).route("/", router(bus, auth));
// deno-lint-ignore no-explicit-any
const server = (globalThis as any).Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 8787),
  fetch: app.fetch,
});

process.on("SIGINT", async () => {
  server.stop();
  await bus.stop(); // lets running handlers finish and saves their results
  process.exit(0);
});
