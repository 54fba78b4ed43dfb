import { Hono } from "hono";
import { describeRoute, openAPIRouteHandler } from "hono-openapi";
import type { Bus } from "../../mod.ts";
import { bearerCheck } from "./bearer.ts";
import { deadLetterRoutes } from "./dead_letters.ts";
import { eventRoutes, type Guards } from "./events.ts";
import { guard, type GuardChecks, guardedRoutes, type RouterEnv } from "./guard.ts";
import { errorBody } from "./http_error.ts";
import { routeDocs } from "./openapi.ts";
import { specOptions } from "./openapi_document.ts";
import { assertRouterOptions, type RouterOptions } from "./options.ts";
import { rateLimiter } from "./rate_limit.ts";
import { scheduleRoutes } from "./schedules.ts";
import { signatureCheck } from "./signature.ts";
import { toErrorAnswer } from "./status.ts";

function checks(options: RouterOptions): GuardChecks {
  const { tokens, signingSecrets, rateLimit, now = Date.now } = options;
  return {
    ...(tokens ? { bearer: bearerCheck(tokens) } : {}),
    ...(signingSecrets ? { signature: signatureCheck(signingSecrets, now) } : {}),
    ...(rateLimit ? { limit: rateLimiter(rateLimit, now) } : {}),
  };
}

/**
 * Makes the HTTP API of a bus: ingest (`POST /publish/:name`, also `POST /events/:name`, and `POST /events`), records
 * (`GET /events`, `GET /events/:id`, `DELETE /events/:id`), dead letters, schedules
 * (`GET /schedules`, `GET`/`PUT`/`DELETE /schedules/:id`), `GET /health` and
 * `GET /openapi.json`. Serve it alone or mount it with `app.route("/bus", router(bus, options))`.
 *
 * @param bus the bus to publish to and read from
 * @param options the auth (required, or `auth: false`), the rate limit, OpenAPI fields
 * @returns a Hono app
 * @throws {EdgebusError} code `invalid_option` when no auth is configured and `auth: false`
 * was not given, or when a token or secret is unusable
 *
 * @example Serve it with Deno, Bun or a Worker
 * ```ts
 * import { createBus } from "../../mod.ts";
 * import { router } from "./mod.ts";
 *
 * const bus = createBus();
 * const app = router(bus, { tokens: ["tok_0123456789abcdef"] });
 * const response = await app.request("/publish/user.joined", {
 *   method: "POST",
 *   headers: { "Authorization": "Bearer tok_0123456789abcdef", "Content-Type": "application/json" },
 *   body: JSON.stringify({ user_id: "2b6m" }),
 * });
 * console.log(response.status, await response.json()); // 202 { id: "..." }
 * await bus.stop();
 * ```
 */
export function router(bus: Bus, options: RouterOptions = {}): Hono<RouterEnv> {
  assertRouterOptions(options);
  const { onError = console.error } = options;
  const configured = checks(options);
  const security = [{
    ...(configured.bearer ? { bearer: [] } : {}),
    ...(configured.signature ? { signature: [] } : {}),
  }].filter((requirement) => Object.keys(requirement).length > 0);
  const docs = routeDocs(security);
  const app = new Hono<RouterEnv>();
  const guards: Guards = {
    body: guardedRoutes(app, guard(configured, true)),
    bare: guardedRoutes(app, guard(configured, false)),
  };

  app.get("/health", describeRoute(docs.health), (c) => c.json({ status: "ok" as const }, 200));
  app.get("/openapi.json", describeRoute(docs.openapi), openAPIRouteHandler(app, specOptions(options.openapi ?? {})));
  eventRoutes(bus, guards, docs);
  deadLetterRoutes(bus, guards, docs);
  scheduleRoutes(bus, guards, security);

  app.notFound((c) => c.json(errorBody("not_found", `No route ${c.req.method} ${c.req.path}`), 404));
  app.onError((error, c) => {
    const answer = toErrorAnswer(error);
    if (answer.status === 500) onError(error);
    return c.json(answer.body, answer.status, answer.headers);
  });
  return app;
}
