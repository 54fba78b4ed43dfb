/**
 * A Deno service: the edgebus HTTP API (Hono) and the dashboard (`/ui`) on `Deno.serve`, and handlers run against NATS
 * JetStream. Start nats-server with JetStream and WebSocket first (see the README), then:
 *
 *   EDGEBUS_TOKEN=change-me-0123456789 deno run -A examples/deno.ts
 *   curl -X POST -H 'Authorization: Bearer change-me-0123456789' -H 'Content-Type: application/json' \
 *     -d '{"user_id":"2b6m"}' 'http://127.0.0.1:8787/publish/user.joined?after=5%20seconds'
 *
 * Deno's WebSocket client is slow with many messages in flight; `NATS_TRANSPORT=tcp` connects
 * over TCP (`@nats-io/transport-node`, NATS_URL then `127.0.0.1:4222`).
 */
import { connect as tcpConnect } from "@nats-io/transport-node";
import { createBus } from "../mod.ts";
import { natsDriver } from "../adapters/nats/mod.ts";
import { Hono } from "hono";
import { dashboard, router } from "../adapters/hono/mod.ts";

const tcp = Deno.env.get("NATS_TRANSPORT") === "tcp";
const driver = natsDriver({
  servers: Deno.env.get("NATS_URL") ?? (tcp ? "127.0.0.1:4222" : "ws://127.0.0.1:8080"),
  group: Deno.env.get("EDGEBUS_GROUP") ?? "example",
  ...(tcp ? { connect: tcpConnect } : {}),
});
const bus = createBus({ driver });

bus.on("user.joined", { id: "welcome" }, async (event, ctx) => {
  console.log(`user.joined #${event.attempt}`, event.body);
  await ctx.publish("email.welcome", { after: "2 seconds" }, { user: event.body });
});
bus.on("email.welcome", { id: "send-email" }, (event) => console.log("email.welcome", event.body));

await bus.start();
const token = Deno.env.get("EDGEBUS_TOKEN");
const auth = token ? { tokens: [token] } : { auth: false as const };
// The dashboard at /ui (sign in with the token), the HTTP API beside it.
const app = new Hono().route("/ui", dashboard(bus, auth)).route("/", router(bus, auth));
const server = Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.env.get("PORT") ?? 8787) }, app.fetch);

Deno.addSignalListener("SIGINT", async () => {
  await server.shutdown();
  await bus.stop(); // lets running handlers finish and saves their results
  Deno.exit(0);
});
