import type { DescribeRouteOptions } from "hono-openapi";
import { MAX_BODY_BYTES } from "./body.ts";
import { MAX_BATCH } from "./input.ts";

type Operation = DescribeRouteOptions;
type Parameter = NonNullable<Operation["parameters"]>[number];
type Security = Record<string, string[]>[];

const json = (ref: string): { content: { "application/json": { schema: { $ref: string } } } } => ({
  content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } },
});

const errors = (...statuses: number[]): Record<string, { description: string } & ReturnType<typeof json>> => {
  const said: Record<number, string> = {
    400: "Invalid input (the code says which: invalid_json, invalid_name, invalid_delay, invalid_id, invalid_body...)",
    401: "No credentials",
    403: "Wrong credentials",
    404: "Unknown id",
    409: "The event is not in a state that allows this",
    413: `The body is over ${MAX_BODY_BYTES} bytes`,
    415: "The body is not application/json",
    429: "Rate limited; see Retry-After",
    503: "The bus is stopping or its transport is unavailable",
  };
  return Object.fromEntries(statuses.map((s) => [String(s), { description: said[s], ...json("Error") }]));
};

const idParam = (what: string): Parameter => ({
  name: "id",
  in: "path",
  required: true,
  description: what,
  schema: { type: "string", pattern: "^[A-Za-z0-9_.:-]{1,256}$" },
});
const listParams = (withStatus: boolean): Parameter[] => [
  ...(withStatus ? [{ name: "status", in: "query", schema: { $ref: "#/components/schemas/Status" } }] : []),
  { name: "name", in: "query", description: "A name or pattern (`user.*`, `billing.>`)", schema: { type: "string" } },
  { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000, default: 50 } },
  { name: "cursor", in: "query", description: "The `cursor` of the previous page", schema: { type: "string" } },
  {
    name: "correlationId",
    in: "query",
    description: "Only the events of this correlation id: an event and every event down its causation chain",
    schema: { type: "string", pattern: "^[A-Za-z0-9_.:-]{1,256}$" },
  },
  {
    name: "bodyLimit",
    in: "query",
    description:
      "Cut bodies longer than this many characters of JSON (0: leave bodies out); a cut record has `bodyCut`, the whole body's length",
    schema: { type: "integer", minimum: 0, maximum: 1000000 },
  },
];

/**
 * The OpenAPI description of each route, attached to the routes with `describeRoute` so that
 * `hono-openapi` builds the document from the router itself.
 *
 * @param security the security requirement of protected routes (empty without auth)
 * @returns one operation per route
 *
 * @example
 * ```ts
 * import { routeDocs } from "./openapi.ts";
 * console.log(routeDocs([{ bearer: [] }]).publish.summary); // "Publish an event"
 * ```
 */
export function routeDocs(security: Security): Record<string, Operation> {
  const guarded = (ops: Operation, ...statuses: number[]): Operation => ({
    ...ops,
    ...(security.length ? { security } : {}),
    responses: { ...ops.responses, ...errors(...statuses, ...(security.length ? [401, 403] : [])) },
  });
  const ingest = [400, 413, 415, 429, 503];
  return {
    publish: guarded({
      summary: "Publish an event",
      tags: ["events"],
      parameters: [
        {
          name: "after",
          in: "query",
          description: 'Delay: ms, epoch ms, ISO-8601 or "<n> <unit>"',
          schema: { type: "string" },
        },
        { name: "id", in: "query", description: "Idempotency key", schema: { type: "string" } },
        { name: "Edgebus-After", in: "header", schema: { type: "string" } },
        { name: "Idempotency-Key", in: "header", schema: { type: "string" } },
      ],
      requestBody: {
        required: true,
        description: "The event body, any JSON",
        content: { "application/json": { schema: {} } },
      },
      responses: { "202": { description: "Accepted", ...json("Published") } },
    }, ...ingest),
    batch: guarded({
      summary: `Publish up to ${MAX_BATCH} events, all or none`,
      tags: ["events"],
      requestBody: { required: true, ...json("Batch") },
      responses: { "202": { description: "Accepted", ...json("PublishedBatch") } },
    }, ...ingest),
    list: guarded(
      {
        summary: "List event records, newest first",
        tags: ["events"],
        parameters: listParams(true),
        responses: { "200": { description: "A page of records", ...json("Page") } },
      },
      400,
      429,
    ),
    get: guarded(
      {
        summary: "The record of an event",
        tags: ["events"],
        parameters: [idParam("The event id")],
        responses: { "200": { description: "The record", ...json("EventRecord") } },
      },
      400,
      404,
      429,
    ),
    cancel: guarded(
      {
        summary: "Cancel a delayed event not yet delivered",
        tags: ["events"],
        parameters: [idParam("The event id")],
        responses: { "200": { description: "Cancelled", ...json("Cancelled") } },
      },
      400,
      404,
      409,
      429,
    ),
    deadLetters: guarded(
      {
        summary: "List dead letters, newest first",
        tags: ["dead letters"],
        parameters: listParams(false),
        responses: { "200": { description: "A page of dead events", ...json("Page") } },
      },
      400,
      429,
    ),
    replay: guarded(
      {
        summary: "Run a dead event again (only the handlers that failed)",
        tags: ["dead letters"],
        parameters: [idParam("The dead event's id")],
        responses: { "202": { description: "Replaying", ...json("Published") } },
      },
      400,
      404,
      409,
      429,
      503,
    ),
    deleteDead: guarded(
      {
        summary: "Delete a dead letter for good",
        tags: ["dead letters"],
        parameters: [idParam("The dead event's id")],
        responses: { "200": { description: "Deleted", ...json("Deleted") } },
      },
      400,
      404,
      409,
      429,
    ),
    health: { summary: "Liveness", tags: ["meta"], responses: { "200": { description: "Alive", ...json("Health") } } },
    openapi: { summary: "This document", tags: ["meta"], responses: { "200": { description: "OpenAPI 3.1" } } },
  };
}
