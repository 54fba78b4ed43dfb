import { assertId, type Bus } from "../../mod.ts";
import type { Guards } from "./events.ts";
import { HttpError } from "./http_error.ts";
import { listQuery } from "./input.ts";
import type { routeDocs } from "./openapi.ts";

/**
 * Adds the dead-letter routes: list, replay and delete.
 *
 * @param bus the bus
 * @param guards the auth checks
 * @param docs the OpenAPI description of each route
 *
 * @example
 * ```ts ignore
 * deadLetterRoutes(bus, guards, routeDocs([]));
 * ```
 */
export function deadLetterRoutes(bus: Bus, guards: Guards, docs: ReturnType<typeof routeDocs>): void {
  const dead = async (id: string): Promise<void> => {
    assertId(id);
    const record = await bus.get(id);
    if (!record) throw new HttpError(404, "not_found", `No event with id ${JSON.stringify(id)}`);
    if (record.status !== "dead") {
      throw new HttpError(409, "conflict", `Event ${JSON.stringify(id)} is ${record.status}, not a dead letter`);
    }
  };

  guards.bare.get("/dead-letters", docs.deadLetters, async (c) => {
    const { status: _ignored, ...query } = listQuery(c);
    return c.json(await bus.deadLetters.list(query), 200);
  });

  guards.bare.post("/dead-letters/:id/replay", docs.replay, async (c) => {
    const id = c.req.param("id");
    await dead(id);
    if (!(await bus.deadLetters.replay(id))) {
      throw new HttpError(409, "conflict", `Event ${JSON.stringify(id)} is no longer a dead letter`);
    }
    return c.json({ id }, 202, { "Edgebus-Event-Id": id });
  });

  guards.bare.delete("/dead-letters/:id", docs.deleteDead, async (c) => {
    const id = c.req.param("id");
    await dead(id);
    if (!(await bus.deadLetters.delete(id))) {
      throw new HttpError(409, "conflict", `Event ${JSON.stringify(id)} is no longer a dead letter`);
    }
    return c.json({ id, deleted: true as const }, 200);
  });
}
