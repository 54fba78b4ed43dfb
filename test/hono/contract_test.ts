/**
 * The OpenAPI document against the server's real behaviour: every pattern the document gives for
 * an input is read from `/openapi.json` itself, and the server must accept what matches (within
 * the documented ranges) and refuse with 400 what does not. Documented response headers must be
 * sent, and read routes must answer 503 when the store is down (a memory driver whose store
 * throws, standing in for a NATS or Durable Object outage, which the fault suite covers for real).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { createBus, type Driver, memoryDriver, ONE_YEAR_MS } from "../../mod.ts";
import { describe, test } from "../lib/t.ts";
import { errorOf, setup, TOKEN } from "./helpers.ts";

type Schema = { pattern?: string; maxLength?: number; anyOf?: Schema[]; type?: string };
type Param = { name: string; in: string; schema: Schema };
type Response = { headers?: Record<string, unknown> };
type Op = { parameters?: Param[]; responses: Record<string, Response> };
type Doc = { paths: Record<string, Record<string, Op>>; components: { schemas: Record<string, unknown> } };

async function documentOf(app: ReturnType<typeof setup>["app"]): Promise<Doc> {
  return await (await app.request("/openapi.json")).json() as Doc;
}

const param = (op: Op, name: string): Schema => {
  const found = op.parameters?.find((p) => p.name === name)?.schema;
  assert.ok(found, `parameter ${name} is documented`);
  return found;
};

const fits = (schema: Schema, value: string): boolean =>
  new RegExp(schema.pattern!).test(value) && value.length <= (schema.maxLength ?? Infinity);

/** Strings near the grammar: mostly the characters that matter, a few others. */
const nearly = (chars: string, maxLength = 12) =>
  fc.string({
    unit: fc.oneof(
      { weight: 9, arbitrary: fc.constantFrom(...chars) },
      fc.string({ minLength: 1, maxLength: 1, unit: "binary" }),
    ),
    maxLength,
  });

/** `after` texts: valid forms within a year, and near misses. */
const afterText = fc.oneof(
  fc.integer({ min: 1, max: ONE_YEAR_MS }).map(String),
  fc.tuple(fc.integer({ min: 1, max: 300 }), fc.constantFrom("second", "Minutes", "hour", "DAYS", "week"), fc.boolean())
    .map(([n, unit, space]) => `${n}${space ? " " : ""}${unit}`),
  fc.integer({ min: 1, max: 11 }).map((n) => `${n} months`),
  fc.integer({ min: 60_000, max: 300 * 86_400_000 }).map((ms) => new Date(Date.now() + ms).toISOString()),
  nearly("0123456789 .dayshourweekmnT:Z-+", 14),
);

describe("hono router: the OpenAPI document holds to the server", () => {
  test("publish: the path name, ?id= and ?after= are accepted exactly when they match the document", async () => {
    const { bus, app, send } = setup();
    const op = (await documentOf(app)).paths["/publish/{name}"].post;
    const [name, id, after] = [param(op, "name"), param(op, "id"), param(op, "after")];
    let n = 0;
    await fc.assert(
      fc.asyncProperty(nearly("abc.XYZ09_:-*>~é ", 20), async (candidate) => {
        // Another route or none: a slash, or a dot segment that URLs resolve away (`/publish/.`).
        if (candidate === "" || candidate.includes("/") || candidate === "." || candidate === "..") return;
        const response = await send(`/publish/${encodeURIComponent(candidate)}?id=name-${n++}`, { body: "1" });
        assert.equal(response.status, fits(name, candidate) ? 202 : 400, `name ${JSON.stringify(candidate)}`);
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(nearly("ab.Z9_:-~ é", 20), async (candidate) => {
        if (candidate === "") return; // empty: absent (tested below)
        const response = await send(`/publish/a.b?id=${encodeURIComponent(candidate)}`, { body: "1" });
        assert.equal(response.status, fits(id, candidate) ? 202 : 400, `id ${JSON.stringify(candidate)}`);
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(afterText, async (candidate) => {
        if (candidate === "") return;
        const response = await send(`/publish/a.b?after=${encodeURIComponent(candidate)}`, { body: "1" });
        if (!fits(after, candidate)) assert.equal(response.status, 400, `after ${JSON.stringify(candidate)}`);
      }),
      { numRuns: 300 },
    );
    const [chain, origin] = [param(op, "correlationId"), param(op, "origin")];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("correlationId", "origin"), nearly("ab.Z9_:-~ é!", 20), async (key, value) => {
        if (value === "") return;
        const response = await send(`/publish/a.b?${key}=${encodeURIComponent(value)}`, { body: "1" });
        const schema = key === "origin" ? origin : chain;
        assert.equal(response.status, fits(schema, value) ? 202 : 400, `${key} ${JSON.stringify(value)}`);
      }),
      { numRuns: 200 },
    );
    assert.equal((await send(`/publish/a.b?origin=${"o".repeat(257)}`, { body: "1" })).status, 400, "origin too long");
    // Everything the generator makes valid on purpose is accepted (the ranges are in the description).
    for (const good of ["5000", "3 Days", "1.5 hours", "2 months", new Date(Date.now() + 86_400_000).toISOString()]) {
      assert.ok(fits(after, good), `${good} matches the pattern`);
      assert.equal((await send(`/publish/a.b?after=${encodeURIComponent(good)}`, { body: "1" })).status, 202, good);
    }
    await bus.stop();
  });

  test("list: ?name= filters are accepted exactly when they match the document", async () => {
    const { bus, app, send } = setup();
    const filter = param((await documentOf(app)).paths["/events"].get, "name");
    await fc.assert(
      fc.asyncProperty(nearly("ab.*>_:-9 ", 12), async (candidate) => {
        if (candidate === "") return;
        const response = await send(`/events?name=${encodeURIComponent(candidate)}`);
        assert.equal(response.status, fits(filter, candidate) ? 200 : 400, `name filter ${JSON.stringify(candidate)}`);
      }),
      { numRuns: 200 },
    );
    await bus.stop();
  });

  test("batch: item ids, names and after follow the Batch schema; numbers may have fractions", async () => {
    const { bus, app, send } = setup();
    const doc = await documentOf(app);
    const item = (doc.components.schemas.Batch as { items: { properties: Record<string, Schema> } }).items.properties;
    const textAfter = item.after.anyOf!.find((s) => s.type === "string")!;
    for (const [after, ok] of [[1.5, true], [60_000, true], [0, false], ["5000", false], ["1 week", true]] as const) {
      const response = await send("/events", { body: JSON.stringify([{ name: "a.b", after }]) });
      assert.equal(response.status, ok ? 202 : 400, `after ${JSON.stringify(after)}`);
      if (typeof after === "string") assert.equal(fits(textAfter, after), ok, `pattern of ${after}`);
    }
    for (const name of ["a.b", "a..b", "a.*"]) {
      const response = await send("/events", { body: JSON.stringify([{ name }]) });
      assert.equal(response.status, fits(item.name, name) ? 202 : 400, name);
    }
    await bus.stop();
  });

  test("an empty parameter counts as absent on every route", async () => {
    const { bus, send } = setup();
    const published = await send("/publish/a.b?id=&after=&correlationId=&origin=", {
      body: "1",
      headers: { "idempotency-key": "" },
    });
    assert.equal(published.status, 202);
    const { id } = await published.json() as { id: string };
    const record = await bus.get(id);
    assert.deepEqual([record?.delay, record?.correlationId, record?.origin], [0, id, "http"], "all absent");
    assert.equal((await send("/publish/a.b", { body: "1", headers: { "edgebus-after": "" } })).status, 202);
    for (const query of ["status=", "name=", "limit=", "cursor=", "correlationId=", "bodyLimit="]) {
      assert.equal((await send(`/events?${query}`)).status, 200, query);
      assert.equal((await send(`/dead-letters?${query}`)).status, 200, query);
    }
    await bus.stop();
  });

  test("a batch repeating an id is refused whole; the old publish path still works and is not documented", async () => {
    const { bus, app, send, records } = setup();
    const repeated = await send("/events", { body: JSON.stringify([{ name: "a", id: "k" }, { name: "b", id: "k" }]) });
    assert.equal(repeated.status, 400);
    const error = await errorOf(repeated);
    assert.equal(error.code, "invalid_batch");
    assert.match(error.message, /events\[1\]\.id "k" repeats events\[0\]\.id/);
    assert.equal((await records()).length, 0, "nothing stored");
    assert.equal((await send("/events/user.joined", { body: "{}" })).status, 202);
    const doc = await documentOf(app);
    assert.equal(doc.paths["/events/{name}"], undefined);
    assert.ok(doc.paths["/events/{id}"].get && doc.paths["/publish/{name}"].post);
    await bus.stop();
  });

  test("documented response headers are sent: Edgebus-Event-Id, WWW-Authenticate, Retry-After", async () => {
    const { bus, app, send } = setup({ tokens: [TOKEN], rateLimit: { limit: 1, window: 60_000 } });
    const doc = await documentOf(app);
    const publish = doc.paths["/publish/{name}"].post.responses;
    const accepted = await send("/publish/a.b", { body: "1" });
    assert.equal(accepted.status, 202);
    for (const header of Object.keys(publish["202"].headers ?? {})) assert.ok(accepted.headers.get(header), header);
    const limited = await send("/publish/a.b", { body: "1" });
    assert.equal(limited.status, 429);
    for (const header of Object.keys(publish["429"].headers ?? {})) assert.ok(limited.headers.get(header), header);
    for (const authorization of [undefined, "Bearer wrong_token_0123456789"]) {
      const response = await app.request("/events", { headers: authorization ? { authorization } : {} });
      const status = String(response.status);
      assert.ok(status === "401" || status === "403", status);
      const documented = doc.paths["/events"].get.responses[status].headers ?? {};
      assert.ok(Object.keys(documented).length > 0, `${status} documents its headers`);
      for (const header of Object.keys(documented)) assert.ok(response.headers.get(header), `${status} ${header}`);
    }
    await bus.stop();
  });

  test("read routes answer 503 with Retry-After when the store is down, as documented", async () => {
    const inner = memoryDriver();
    const down = (): Promise<never> => Promise.reject(new Error("store unreachable"));
    const driver: Driver = { ...inner, store: { ...inner.store, get: down, list: down } };
    const { bus, app, send } = setup({ tokens: [TOKEN] }, createBus({ driver }));
    const doc = await documentOf(app);
    const routes: [string, string, string, string][] = [
      ["GET", "/events", "/events", "get"],
      ["GET", "/events/x-1", "/events/{id}", "get"],
      ["DELETE", "/events/x-1", "/events/{id}", "delete"],
      ["GET", "/dead-letters", "/dead-letters", "get"],
      ["POST", "/dead-letters/x-1/replay", "/dead-letters/{id}/replay", "post"],
      ["DELETE", "/dead-letters/x-1", "/dead-letters/{id}", "delete"],
    ];
    for (const [method, path, documented, verb] of routes) {
      const response = await send(path, { method });
      assert.equal(response.status, 503, `${method} ${path}`);
      assert.equal((await errorOf(response)).code, "unavailable");
      assert.ok(response.headers.get("retry-after"), `${method} ${path} Retry-After`);
      assert.ok(doc.paths[documented][verb].responses["503"], `${method} ${documented} documents 503`);
    }
    await bus.stop();
  });
});
