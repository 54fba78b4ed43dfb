import type { DescribeRouteOptions } from "hono-openapi";
import { MAX_NAME_LENGTH } from "../../mod.ts";
import { MAX_BODY_BYTES } from "./body.ts";
import { MAX_BATCH } from "./input.ts";
import { AFTER_HTTP_PATTERN, ID_PATTERN, NAME_FILTER_PATTERN, NAME_PATTERN, ORIGIN_PATTERN } from "./patterns.ts";

type Operation = DescribeRouteOptions;
type Parameter = NonNullable<Operation["parameters"]>[number];
type Security = Record<string, string[]>[];

const json = (ref: string): { content: { "application/json": { schema: { $ref: string } } } } => ({
  content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } },
});

type Header = { description: string; schema: Record<string, unknown> };
const retryAfter: Record<string, Header> = {
  "Retry-After": { description: "Seconds to wait before trying again", schema: { type: "integer", minimum: 0 } },
};
const challenge: Record<string, Header> = {
  "WWW-Authenticate": { description: "The scheme the credentials are expected in", schema: { type: "string" } },
};
/** Response headers by status: what the router sends with each error. */
const ERROR_HEADERS: Record<number, Record<string, Header>> = {
  401: challenge,
  403: challenge,
  429: retryAfter,
  503: retryAfter,
};

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
    503: "The bus is stopping or its transport (or store) is unavailable",
  };
  return Object.fromEntries(
    statuses.map((
      s,
    ) => [String(s), {
      description: said[s],
      ...(ERROR_HEADERS[s] ? { headers: ERROR_HEADERS[s] } : {}),
      ...json("Error"),
    }]),
  );
};

const EMPTY = "An empty value counts as absent.";
const eventIdHeader = (what: string): Record<string, Header> => ({
  "Edgebus-Event-Id": { description: what, schema: { type: "string" } },
});
const afterSchema = {
  type: "string" as const,
  pattern: AFTER_HTTP_PATTERN,
  description:
    'Delay: a whole number of ms (1 to one year; larger numbers are epoch ms), "<n> <unit>" (seconds … years; months and years whole), or an ISO-8601 date with Z or an offset; at most one year ahead',
};

const idParam = (what: string): Parameter => ({
  name: "id",
  in: "path",
  required: true,
  description: what,
  schema: { type: "string", pattern: ID_PATTERN },
});
const listParams = (withStatus: boolean): Parameter[] => [
  ...(withStatus
    ? [{ name: "status", in: "query", description: EMPTY, schema: { $ref: "#/components/schemas/Status" } }]
    : []),
  {
    name: "name",
    in: "query",
    description:
      `A name or pattern: tokens split by \`.\`, \`*\` for one token, a last \`>\` for one or more (\`user.*\`, \`billing.>\`). ${EMPTY}`,
    schema: { type: "string", maxLength: MAX_NAME_LENGTH, pattern: NAME_FILTER_PATTERN },
  },
  {
    name: "limit",
    in: "query",
    description: EMPTY,
    schema: { type: "integer", minimum: 1, maximum: 1000, default: 50 },
  },
  {
    name: "cursor",
    in: "query",
    description: `The \`cursor\` of the previous page. ${EMPTY}`,
    schema: { type: "string" },
  },
  {
    name: "correlationId",
    in: "query",
    description: `Only the events of this correlation id: an event and every event down its causation chain. ${EMPTY}`,
    schema: { type: "string", pattern: ID_PATTERN },
  },
  {
    name: "bodyLimit",
    in: "query",
    description:
      `Cut bodies longer than this many characters of JSON (0: leave bodies out); a cut record has \`bodyCut\`, the whole body's length. ${EMPTY}`,
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
  const idText = { type: "string" as const, pattern: ID_PATTERN };
  const originText = { type: "string" as const, pattern: ORIGIN_PATTERN };
  return {
    publish: guarded({
      summary: "Publish an event",
      description:
        "Also served at `POST /events/{name}` (the path of earlier releases, kept working; not listed here because OpenAPI 3.1 allows one parameter name per templated path, and `/events/{id}` names the record). " +
        "Give `after`, `id`, `correlationId` and `origin` in the query or in the headers, not both unless they agree. A reused id is the same event: the later publish answers 202 with the id and stores nothing, whatever its name or body.",
      tags: ["events"],
      parameters: [
        {
          name: "name",
          in: "path",
          required: true,
          description: "The event name: tokens of `[A-Za-z0-9_:-]` split by single dots",
          schema: { type: "string", maxLength: MAX_NAME_LENGTH, pattern: NAME_PATTERN },
        },
        { name: "after", in: "query", description: EMPTY, schema: afterSchema },
        { name: "id", in: "query", description: `Idempotency key. ${EMPTY}`, schema: idText },
        {
          name: "correlationId",
          in: "query",
          description:
            `Ties the event to a chain (another service's event id, say); by default the event's own id. ${EMPTY}`,
          schema: idText,
        },
        {
          name: "origin",
          in: "query",
          description: `Where the event came from, kept in its record; by default \`http\`. ${EMPTY}`,
          schema: originText,
        },
        { name: "Edgebus-After", in: "header", description: `As \`after\`. ${EMPTY}`, schema: afterSchema },
        { name: "Idempotency-Key", in: "header", description: `As \`id\`. ${EMPTY}`, schema: idText },
        {
          name: "Edgebus-Correlation-Id",
          in: "header",
          description: `As \`correlationId\`. ${EMPTY}`,
          schema: idText,
        },
        { name: "Edgebus-Origin", in: "header", description: `As \`origin\`. ${EMPTY}`, schema: originText },
      ],
      requestBody: {
        required: true,
        description: "The event body, any JSON",
        content: { "application/json": { schema: {} } },
      },
      responses: {
        "202": { description: "Accepted", headers: eventIdHeader("The event id"), ...json("Published") },
      },
    }, ...ingest),
    batch: guarded({
      summary: `Publish up to ${MAX_BATCH} events, all or none`,
      description: "Ids must differ within a batch (a repeat is refused with 400 `invalid_batch`).",
      tags: ["events"],
      requestBody: { required: true, ...json("Batch") },
      responses: {
        "202": {
          description: "Accepted",
          headers: eventIdHeader("The event ids, in order, joined by `, `"),
          ...json("PublishedBatch"),
        },
      },
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
      503,
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
      503,
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
      503,
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
      503,
    ),
    replay: guarded(
      {
        summary: "Run a dead event again (only the handlers that failed)",
        tags: ["dead letters"],
        parameters: [idParam("The dead event's id")],
        responses: {
          "202": { description: "Replaying", headers: eventIdHeader("The event id"), ...json("Published") },
        },
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
      503,
    ),
    health: { summary: "Liveness", tags: ["meta"], responses: { "200": { description: "Alive", ...json("Health") } } },
    openapi: { summary: "This document", tags: ["meta"], responses: { "200": { description: "OpenAPI 3.1" } } },
  };
}
