/**
 * An edgebus Worker in the spirit of Ampt's `user.joined` welcome-email flow: the welcome email
 * fails now and then (and is retried on its own), a follow-up goes out two days later, and
 * sending an email chains an `email.sent` event. Billing events travel on their own queue. The
 * HTTP API (`edgebus/hono`) publishes and inspects events, and the dashboard at `/ui` shows and
 * steers them in a browser (sign in with the same token).
 *
 * Run it locally, offline, with state kept in `.wrangler/state` between runs (the token comes
 * from `.dev.vars`, which `npm start` copies from `.dev.vars.example`):
 *
 *   npm start
 *
 * then, in another shell:
 *
 *   curl -X POST -H 'Authorization: Bearer dev-token-0123456789' -H 'Content-Type: application/json' \
 *     -d '{"user_id":"2b6m","email":"ada@example.com"}' http://127.0.0.1:8787/publish/user.joined
 *   curl -H 'Authorization: Bearer dev-token-0123456789' http://127.0.0.1:8787/events/<id>
 *
 * or open http://127.0.0.1:8787/ui and sign in with `dev-token-0123456789`.
 */
import { Hono } from "hono";
import { createBus, NonRetriableError } from "../mod.ts";
import { cloudflareDriver, type EdgebusWorker, worker } from "../adapters/cloudflare/mod.ts";
import { dashboard, router } from "../adapters/hono/mod.ts";

// The Durable Objects the driver needs; wrangler.toml binds them.
export { EdgebusScheduler, EdgebusStore } from "../adapters/cloudflare/mod.ts";

interface Env {
  /** The bearer token of the HTTP API: `wrangler secret put EDGEBUS_TOKEN`. */
  readonly EDGEBUS_TOKEN?: string;
}

interface Joined {
  readonly user_id: string;
  readonly email: string;
}

const driver = cloudflareDriver({ routes: [{ pattern: "billing.>", queue: "BILLING_QUEUE" }] });
const bus = createBus({ driver, retry: { minDelay: 2_000, maxAttempts: 5 } });

bus.on<Joined>("user.joined", { id: "send-welcome-email" }, async (event, ctx) => {
  // A flaky mail provider: only this handler runs again, the follow-up is not scheduled twice.
  if (Math.random() < 0.3) throw new Error("The mail provider timed out");
  console.log(`welcome email to ${event.body.email} (attempt ${event.attempt})`);
  await ctx.publish("email.sent", { template: "welcome", to: event.body.email });
});

bus.on<Joined>("user.joined", { id: "schedule-follow-up" }, async (event, ctx) => {
  await ctx.publish("user.follow-up", { after: "2 days", id: `follow-up-${event.id}` }, event.body);
});

bus.on<Joined>("user.follow-up", (event) => {
  console.log(`follow-up email to ${event.body.email}, two days after joining`);
});

bus.on("email.sent", (event) => {
  console.log(`email.sent ${JSON.stringify(event.body)} (caused by ${event.causationId})`);
});

// A handler that refuses until a given time: its events land in the dead letters at once, and a
// replay from the dashboard after that time runs them to done.
bus.on<{ failUntil?: number }>("demo.fails", (event) => {
  const until = event.body?.failUntil ?? Infinity;
  if (Date.now() < until) throw new NonRetriableError(`demo.fails refuses until ${new Date(until).toISOString()}`);
});

bus.on("billing.>", (event) => {
  console.log(`billing event ${event.name} on the billing queue`, event.body);
});

let api: ReturnType<typeof router> | undefined;
let ui: Hono | undefined;

const handlers: EdgebusWorker<Env> = worker<Env>(bus, {
  driver,
  fetch(request, env, ctx) {
    if (!env.EDGEBUS_TOKEN) {
      const message =
        "Set the API token: `wrangler secret put EDGEBUS_TOKEN` (locally: --var EDGEBUS_TOKEN:<16+ characters>)";
      return Response.json({ error: { code: "unavailable", message } }, { status: 500 });
    }
    const tokens = [env.EDGEBUS_TOKEN];
    api ??= router(bus, { tokens });
    ui ??= new Hono().get("/", (c) => c.redirect("/ui")).route("/ui", dashboard(bus, { tokens }));
    const path = new URL(request.url).pathname;
    const page = path === "/" || path === "/ui" || path.startsWith("/ui/");
    return (page ? ui : api).fetch(request, env, ctx as never);
  },
});

export default handlers;
