import type { GenerateSpecOptions } from "hono-openapi";
import { EVENT_STATUSES } from "../../driver/mod.ts";
import { MAX_BATCH } from "./input.ts";
import { AFTER_TEXT_PATTERN, ID_PATTERN, NAME_PATTERN, ORIGIN_PATTERN } from "./patterns.ts";
import { MAX_NAME_LENGTH } from "../../mod.ts";

const str = { type: "string" };
const STATUSES = [...EVENT_STATUSES];

const SCHEMAS: Record<string, object> = {
  Error: {
    type: "object",
    required: ["error"],
    properties: {
      error: {
        type: "object",
        required: ["code", "message"],
        properties: {
          code: str,
          message: str,
          issues: {
            type: "array",
            items: { type: "object", required: ["message"], properties: { message: str, path: { type: "array" } } },
          },
        },
      },
    },
  },
  Status: { type: "string", enum: STATUSES },
  Published: { type: "object", required: ["id"], properties: { id: str } },
  PublishedBatch: { type: "object", required: ["ids"], properties: { ids: { type: "array", items: str } } },
  Batch: {
    type: "array",
    minItems: 1,
    maxItems: MAX_BATCH,
    items: {
      type: "object",
      required: ["name"],
      additionalProperties: false,
      properties: {
        name: { type: "string", maxLength: MAX_NAME_LENGTH, pattern: NAME_PATTERN },
        body: {},
        after: {
          description:
            'A number of ms (fractions round up; above one year of ms, epoch ms), "<n> <unit>" or an ISO-8601 date; at most one year ahead',
          anyOf: [{ type: "number", exclusiveMinimum: 0 }, { type: "string", pattern: AFTER_TEXT_PATTERN }],
        },
        id: { type: "string", pattern: ID_PATTERN, description: "Ids differ within a batch" },
        correlationId: {
          type: "string",
          pattern: ID_PATTERN,
          description: "Ties the event to a chain; by default the event's own id",
        },
        origin: {
          type: "string",
          pattern: ORIGIN_PATTERN,
          description: "Where the event came from; by default `http`",
        },
      },
    },
  },
  EventRecord: {
    type: "object",
    required: [
      "id",
      "name",
      "body",
      "time",
      "delay",
      "due",
      "attempt",
      "correlationId",
      "status",
      "handlers",
      "updatedAt",
    ],
    properties: {
      id: str,
      name: str,
      body: {},
      time: { type: "integer" },
      delay: { type: "integer" },
      due: { type: "integer" },
      attempt: { type: "integer" },
      correlationId: str,
      causationId: str,
      origin: str,
      status: { $ref: "#/components/schemas/Status" },
      handlers: { type: "object", additionalProperties: { type: "object" } },
      updatedAt: { type: "integer" },
      noHandler: { type: "boolean" },
      bodyCut: {
        type: "integer",
        description: "Set when a listing cut the body (`bodyLimit`): the whole body's length as JSON text",
      },
    },
  },
  Page: {
    type: "object",
    required: ["items"],
    properties: { items: { type: "array", items: { $ref: "#/components/schemas/EventRecord" } }, cursor: str },
  },
  Cancelled: { type: "object", required: ["id", "status"], properties: { id: str, status: { const: "cancelled" } } },
  Deleted: { type: "object", required: ["id", "deleted"], properties: { id: str, deleted: { const: true } } },
  Health: { type: "object", required: ["status"], properties: { status: { const: "ok" } } },
};

/**
 * The document-level parts: info, servers, the security schemes and the shared schemas.
 *
 * @param extra fields the user gave in `options.openapi`
 * @returns the options for `hono-openapi`'s generator
 *
 * @example
 * ```ts
 * import { specOptions } from "./openapi_document.ts";
 * console.log(specOptions({}).documentation?.info?.title); // "edgebus"
 * ```
 */
export function specOptions(
  extra: { info?: Record<string, unknown>; servers?: readonly { url: string }[] },
): Partial<GenerateSpecOptions> {
  return {
    excludeStaticFile: false,
    defaultValidationErrorResponse: false,
    documentation: {
      info: {
        title: "edgebus",
        version: "0.1.0",
        description: "Publish events and inspect their records and dead letters",
        ...extra.info,
      },
      ...(extra.servers ? { servers: [...extra.servers] } : {}),
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer" },
          signature: {
            type: "apiKey",
            in: "header",
            name: "Edgebus-Signature",
            description: 't=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">, within 300 s',
          },
        },
        schemas: SCHEMAS as NonNullable<NonNullable<GenerateSpecOptions["documentation"]["components"]>["schemas"]>,
      },
    },
  };
}
