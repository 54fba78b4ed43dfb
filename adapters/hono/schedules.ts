import type { DescribeRouteOptions } from "hono-openapi";
import { type Bus, EdgebusError, MAX_NAME_LENGTH, MAX_SCHEDULE_ID, type ScheduleOptions } from "../../mod.ts";
import { parseJson } from "./body.ts";
import type { Guards } from "./events.ts";
import { HttpError } from "./http_error.ts";
import { NAME_PATTERN } from "./patterns.ts";

type Security = Record<string, string[]>[];

const SCHEDULE_ID_PATTERN = `^[A-Za-z0-9_.:-]{1,${MAX_SCHEDULE_ID}}$`;
const FIELDS = new Set(["cron", "name", "body", "tz", "catchUp", "overlap", "paused"]);
const str = { type: "string" };
const schedule = {
  type: "object",
  required: ["id", "cron", "name", "body", "tz", "catchUp", "overlap", "paused", "since", "updatedAt"],
  properties: {
    id: str,
    cron: str,
    name: str,
    body: {},
    tz: str,
    catchUp: { type: "string", enum: ["all", "latest", "none"] },
    overlap: { type: "string", enum: ["allow", "skip"] },
    paused: { type: "boolean" },
    since: { type: "integer", description: "Ticks after this time are the schedule's, epoch ms" },
    updatedAt: { type: "integer" },
    next: { type: "integer", description: "The next tick, epoch ms; absent while paused" },
  },
};
const declared = {
  ...schedule,
  required: [...schedule.required, "change"],
  properties: { ...schedule.properties, change: { type: "string", enum: ["created", "replaced", "unchanged"] } },
};
const body = (schema: object) => ({ content: { "application/json": { schema } } });
const idParam = {
  name: "id",
  in: "path" as const,
  required: true,
  description: "The schedule id",
  schema: { type: "string" as const, pattern: SCHEDULE_ID_PATTERN },
};
const SAID: Record<number, string> = {
  400: "Invalid input (the code says which: invalid_schedule, invalid_name, invalid_body, too_large...)",
  401: "No credentials",
  403: "Wrong credentials",
  404: "Unknown schedule",
  413: "The body is too large",
  415: "The body is not application/json",
  429: "Rate limited; see Retry-After",
  503: "The bus is stopping or its transport is unavailable",
};

/**
 * The OpenAPI description of the schedule routes.
 *
 * @param security the security requirement (empty without auth)
 * @returns one operation per route
 */
function scheduleDocs(security: Security): Record<"list" | "get" | "put" | "delete", DescribeRouteOptions> {
  const guarded = (op: DescribeRouteOptions, ...statuses: number[]): DescribeRouteOptions => ({
    ...op,
    tags: ["schedules"],
    ...(security.length ? { security } : {}),
    responses: {
      ...op.responses,
      ...Object.fromEntries([...statuses, ...(security.length ? [401, 403] : [])].map((s) => [String(s), {
        description: SAID[s],
        ...(s === 429 || s === 503 ? { headers: { "Retry-After": { schema: { type: "integer", minimum: 0 } } } } : {}),
        ...body({ $ref: "#/components/schemas/Error" }),
      }])),
    },
  });
  return {
    list: guarded(
      {
        summary: "List schedules by id",
        parameters: [
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000, default: 50 } },
          { name: "cursor", in: "query", description: "The `cursor` of the previous page", schema: { type: "string" } },
        ],
        responses: {
          "200": {
            description: "A page of schedules",
            ...body({
              type: "object",
              required: ["items"],
              properties: { items: { type: "array", items: schedule }, cursor: str },
            }),
          },
        },
      },
      400,
      429,
      503,
    ),
    get: guarded(
      {
        summary: "A schedule, with its next tick",
        parameters: [idParam],
        responses: { "200": { description: "The schedule", ...body(schedule) } },
      },
      400,
      404,
      429,
      503,
    ),
    put: guarded(
      {
        summary: "Declare a schedule: each tick publishes an event with id `<id>:<tick time>`",
        description:
          "The same spec again changes nothing (200, `unchanged`); another spec replaces it (200, `replaced`); a new id answers 201. `paused` pauses or resumes it after.",
        parameters: [idParam],
        requestBody: {
          required: true,
          ...body({
            type: "object",
            required: ["cron", "name"],
            additionalProperties: false,
            properties: {
              cron: { type: "string", description: "Five fields, or six with seconds first" },
              name: { type: "string", maxLength: MAX_NAME_LENGTH, pattern: NAME_PATTERN },
              body: {},
              tz: { type: "string", description: "An IANA time zone", default: "UTC" },
              catchUp: { type: "string", enum: ["all", "latest", "none"], default: "latest" },
              overlap: { type: "string", enum: ["allow", "skip"], default: "allow" },
              paused: { type: "boolean" },
            },
          }),
        },
        responses: {
          "200": { description: "Unchanged or replaced", ...body(declared) },
          "201": { description: "Created", ...body(declared) },
        },
      },
      400,
      413,
      415,
      429,
      503,
    ),
    delete: guarded(
      {
        summary: "Delete a schedule",
        parameters: [idParam],
        responses: {
          "200": {
            description: "Deleted",
            ...body({ type: "object", required: ["id", "deleted"], properties: { id: str, deleted: { const: true } } }),
          },
        },
      },
      400,
      404,
      429,
      503,
    ),
  };
}

function declaration(
  input: unknown,
): { cron: string; name: string; body: unknown; options: ScheduleOptions; paused?: boolean } {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new EdgebusError("invalid_schedule", "Invalid schedule: expected an object with cron and name");
  }
  const fields = input as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) {
    throw new EdgebusError("invalid_schedule", `Invalid schedule: unknown field ${JSON.stringify(unknown[0])}`);
  }
  if (fields.paused !== undefined && typeof fields.paused !== "boolean") {
    throw new EdgebusError("invalid_schedule", `Invalid paused ${JSON.stringify(fields.paused)}: expected a boolean`);
  }
  const { cron, name, body, tz, catchUp, overlap, paused } = fields;
  const options = Object.fromEntries(Object.entries({ tz, catchUp, overlap }).filter(([, v]) => v !== undefined));
  return { cron: cron as string, name: name as string, body, options, paused: paused as boolean | undefined };
}

/**
 * Adds the schedule routes: `GET /schedules`, `GET`, `PUT` and `DELETE /schedules/:id`, behind
 * the router's auth.
 *
 * @param bus the bus
 * @param guards the auth checks
 * @param security the OpenAPI security requirement
 *
 * @example
 * ```ts ignore
 * scheduleRoutes(bus, guards, [{ bearer: [] }]);
 * ```
 */
export function scheduleRoutes(bus: Bus, guards: Guards, security: Security): void {
  const docs = scheduleDocs(security);
  const notFound = (id: string) => new HttpError(404, "not_found", `No schedule with id ${JSON.stringify(id)}`);
  const number = (value: string | undefined): number | undefined => value === undefined ? undefined : Number(value);

  guards.bare.get("/schedules", docs.list, async (c) => {
    const limit = number(c.req.query("limit") || undefined);
    const cursor = c.req.query("cursor") || undefined;
    return c.json(await bus.schedules.list({ limit, cursor }), 200);
  });

  guards.bare.get("/schedules/:id", docs.get, async (c) => {
    const id = c.req.param("id");
    const found = await bus.schedules.get(id);
    if (!found) throw notFound(id);
    return c.json(found, 200);
  });

  guards.body.put("/schedules/:id", docs.put, async (c) => {
    const id = c.req.param("id");
    const { cron, name, body, options, paused } = declaration(parseJson(c.get("rawBody")));
    const result = await bus.schedule(id, cron, name, body, options);
    let answer = result;
    if (paused !== undefined && paused !== result.paused) {
      await (paused ? bus.schedules.pause(id) : bus.schedules.resume(id));
      answer = { ...(await bus.schedules.get(id) ?? result), change: result.change };
    }
    return c.json(answer, result.change === "created" ? 201 : 200);
  });

  guards.bare.delete("/schedules/:id", docs.delete, async (c) => {
    const id = c.req.param("id");
    if (!(await bus.schedules.delete(id))) throw notFound(id);
    return c.json({ id, deleted: true as const }, 200);
  });
}
