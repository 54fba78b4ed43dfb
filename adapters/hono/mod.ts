/**
 * The HTTP API of an edgebus bus, as a Hono app: other systems publish over HTTP (with a bearer
 * token, a signed body, or both) and operators inspect events and dead letters. The same router
 * serves on Cloudflare Workers, `Deno.serve`, `Bun.serve` and Node (`@hono/node-server`).
 *
 * @example Serve the bus with Deno
 * ```ts ignore
 * import { createBus } from "@edgebus/edgebus";
 * import { router } from "@edgebus/edgebus/hono";
 *
 * const bus = createBus();
 * bus.on("user.joined", (event) => console.log("joined", event.body));
 * const app = router(bus, { tokens: [Deno.env.get("EDGEBUS_TOKEN")!] });
 * Deno.serve({ port: 8787 }, app.fetch);
 * ```
 *
 * @module
 */
export { router } from "./router.ts";
export type { RouterOptions } from "./options.ts";
export type { RouterEnv } from "./guard.ts";
export type { RateLimitOptions } from "./rate_limit.ts";
export { SIGNATURE_HEADER, SIGNATURE_TOLERANCE_S, signBody } from "./signature.ts";
export { MAX_BODY_BYTES, MAX_JSON_DEPTH } from "./body.ts";
export { MAX_BATCH } from "./input.ts";
export { type ErrorBody, errorBody, type ErrorStatus, HttpError } from "./http_error.ts";
export { type ErrorAnswer, toErrorAnswer } from "./status.ts";
export { dashboard, type DashboardEnv } from "./dashboard/dashboard.ts";
export type { DashboardOptions } from "./dashboard/options.ts";
