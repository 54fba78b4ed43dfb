import type { Context } from "hono";
import { assertId, type Bus } from "../../mod.ts";
import { parseJson } from "./body.ts";
import type { RouterEnv, Routes } from "./guard.ts";
import { HttpError } from "./http_error.ts";
import { batchItems, HTTP_ORIGIN, httpAfter, listQuery, queryOrHeader } from "./input.ts";
import type { routeDocs } from "./openapi.ts";

/** Adders of protected routes: their checks run first, with or without reading a body. */
export interface Guards {
  /** For routes that take a JSON body. */
  readonly body: Routes;
  /** For routes without a body. */
  readonly bare: Routes;
}

/**
 * Adds the event routes: publish (`POST /publish/:name`, and `POST /events/:name` as earlier
 * releases had it, left out of the OpenAPI document), batch publish, list, get and cancel.
 *
 * @param bus the bus
 * @param guards the auth and input checks
 * @param docs the OpenAPI description of each route
 *
 * @example
 * ```ts ignore
 * eventRoutes(bus, guards, routeDocs([]));
 * ```
 */
export function eventRoutes(bus: Bus, guards: Guards, docs: ReturnType<typeof routeDocs>): void {
  const publish = async (c: Context<RouterEnv>) => {
    const after = httpAfter(queryOrHeader(c, "after", "Edgebus-After"));
    const key = queryOrHeader(c, "id", "Idempotency-Key");
    const correlationId = queryOrHeader(c, "correlationId", "Edgebus-Correlation-Id");
    const body = parseJson(c.get("rawBody"));
    const options = {
      origin: queryOrHeader(c, "origin", "Edgebus-Origin") ?? HTTP_ORIGIN,
      ...(after === undefined ? {} : { after }),
      ...(key === undefined ? {} : { id: key }),
      ...(correlationId === undefined ? {} : { correlationId }),
    };
    const id = await bus.publish(c.req.param("name")!, options, body);
    return c.json({ id }, 202, { "Edgebus-Event-Id": id });
  };
  guards.body.post("/publish/:name", docs.publish, publish);
  // The path of earlier releases: it shares its template with `/events/:id`, which OpenAPI 3.1
  // cannot describe under another parameter name, so the document lists `/publish/:name` only.
  guards.body.post("/events/:name", { ...docs.publish, hide: true }, publish);

  guards.body.post("/events", docs.batch, async (c) => {
    const ids = await bus.publishBatch(batchItems(parseJson(c.get("rawBody"))));
    return c.json({ ids }, 202, { "Edgebus-Event-Id": ids.join(", ") });
  });

  guards.bare.get("/events", docs.list, async (c) => c.json(await bus.list(listQuery(c)), 200));

  guards.bare.get("/events/:id", docs.get, async (c) => {
    const id = c.req.param("id");
    assertId(id);
    const record = await bus.get(id);
    if (!record) throw new HttpError(404, "not_found", `No event with id ${JSON.stringify(id)}`);
    return c.json(record, 200);
  });

  guards.bare.delete("/events/:id", docs.cancel, async (c) => {
    const id = c.req.param("id");
    assertId(id);
    const record = await bus.get(id);
    if (!record) throw new HttpError(404, "not_found", `No event with id ${JSON.stringify(id)}`);
    if (!(await bus.cancel(id))) {
      throw new HttpError(
        409,
        "conflict",
        `Cannot cancel ${
          JSON.stringify(id)
        }: it is ${record.status}; only a delayed event not yet due can be cancelled`,
      );
    }
    return c.json({ id, status: "cancelled" as const }, 200);
  });
}
