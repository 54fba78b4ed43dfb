/**
 * The HTTP API on Cloudflare Workers, with the in-process memory driver (for trying it out:
 * a Worker isolate keeps nothing; use the Cloudflare driver for real work).
 *
 * Run: `npx wrangler dev examples/hono_worker.ts --name edgebus-hono --compatibility-date 2026-04-26
 * --var EDGEBUS_TOKEN:tok_0123456789abcdef`.
 */
import { createBus } from "../mod.ts";
import { router } from "../adapters/hono/mod.ts";

interface Env {
  readonly EDGEBUS_TOKEN: string;
}

const bus = createBus();
bus.on("user.joined", (event) => console.log("joined", event.body));
let app: ReturnType<typeof router> | undefined;

export default {
  fetch(request: Request, env: Env): Response | Promise<Response> {
    app ??= router(bus, { tokens: [env.EDGEBUS_TOKEN] });
    return app.fetch(request, env);
  },
};
