import assert from "node:assert/strict";
import { createBus } from "../../mod.ts";
import { router } from "../../adapters/hono/mod.ts";
import { describe, test } from "../lib/t.ts";
import { SECRET, TOKEN } from "./helpers.ts";

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};
type Operation = {
  operationId: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean }[];
  responses: Record<string, unknown>;
};

const ROUTES = [
  ["post", "/publish/{name}"],
  ["post", "/events"],
  ["get", "/events"],
  ["get", "/events/{id}"],
  ["delete", "/events/{id}"],
  ["get", "/dead-letters"],
  ["post", "/dead-letters/{id}/replay"],
  ["delete", "/dead-letters/{id}"],
  ["get", "/schedules"],
  ["get", "/schedules/{id}"],
  ["put", "/schedules/{id}"],
  ["delete", "/schedules/{id}"],
  ["get", "/health"],
  ["get", "/openapi.json"],
];
const PUBLIC = new Set(["/health", "/openapi.json"]);

function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((item) => refs(item, out));
  else if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (key === "$ref" && typeof item === "string") out.push(item);
      else refs(item, out);
    }
  }
  return out;
}

describe("hono router openapi.json", () => {
  test("describes every route as OpenAPI 3.1, with path parameters, security and resolvable refs", async () => {
    const bus = createBus();
    const app = router(bus, { tokens: [TOKEN], signingSecrets: [SECRET], openapi: { servers: [{ url: "/bus" }] } });
    const response = await app.request("/openapi.json");
    assert.equal(response.status, 200);
    const doc = await response.json() as Doc;
    assert.match(doc.openapi, /^3\.1\.\d+$/);
    assert.equal(doc.info.title, "edgebus");
    assert.equal(typeof doc.info.version, "string");
    assert.deepEqual(doc.servers, [{ url: "/bus" }]);
    const described = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m} ${path}`));
    assert.deepEqual(described.sort(), ROUTES.map(([m, p]) => `${m} ${p}`).sort());
    const operationIds = new Set<string>();
    for (const [method, path] of ROUTES) {
      const op = doc.paths[path][method];
      assert.ok(!operationIds.has(op.operationId), `duplicate operationId ${op.operationId}`);
      operationIds.add(op.operationId);
      for (const name of path.match(/\{(\w+)\}/g)?.map((p) => p.slice(1, -1)) ?? []) {
        const param = op.parameters?.find((p) => p.in === "path" && p.name === name);
        assert.equal(param?.required, true, `${method} ${path} declares {${name}}`);
      }
      assert.ok(Object.keys(op.responses).every((code) => /^[1-5]\d\d$/.test(code)), `${method} ${path} status keys`);
      if (PUBLIC.has(path)) assert.equal(op.security, undefined, `${path} is public`);
      else {
        assert.deepEqual(op.security, [{ bearer: [], signature: [] }], `${method} ${path} security`);
        assert.ok(op.responses["401"] && op.responses["403"], `${method} ${path} documents 401 and 403`);
      }
    }
    assert.ok(doc.paths["/publish/{name}"].post.responses["202"]);
    assert.ok(doc.paths["/publish/{name}"].post.responses["413"]);
    for (const ref of refs(doc)) {
      const name = ref.replace("#/components/schemas/", "");
      assert.ok(ref.startsWith("#/components/schemas/") && doc.components.schemas[name], `unresolved ${ref}`);
    }
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ["bearer", "signature"]);
    await bus.stop();
  });

  test("without auth the operations carry no security requirement", async () => {
    const bus = createBus();
    const doc = await (await router(bus, { auth: false }).request("/openapi.json")).json() as Doc;
    assert.equal(doc.paths["/events"].get.security, undefined);
    assert.equal(doc.paths["/events"].get.responses["401"], undefined);
    await bus.stop();
  });
});
