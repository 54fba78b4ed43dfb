import assert from "node:assert/strict";
import fc from "fast-check";
import { createBus } from "../../mod.ts";
import { router, signBody } from "../../adapters/hono/mod.ts";
import { describe, test } from "../lib/t.ts";
import { SECRET, TOKEN } from "./helpers.ts";

const idish = fc.oneof(
  fc.stringMatching(/^[a-z]{1,8}(\.[a-z]{1,8}){0,2}$/),
  fc.stringMatching(/^[a-z]{1,8}(\.[a-z]{1,8}){0,2}$/),
  fc.constantFrom("user.joined", "a..b", "%", "%zz", "%2F", "order-1", "", "..", "*", "a.>"),
  fc.stringMatching(/^[A-Za-z0-9_.:%~*>-]{1,24}$/),
);
const route = fc.oneof(
  { weight: 4, arbitrary: idish.map((id) => `/events/${id}`) },
  { weight: 3, arbitrary: fc.constantFrom("/events", "/dead-letters", "/health", "/openapi.json", "/") },
  { weight: 2, arbitrary: idish.map((id) => `/dead-letters/${id}`) },
  { weight: 1, arbitrary: idish.map((id) => `/dead-letters/${id}/replay`) },
  { weight: 1, arbitrary: fc.array(idish, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join("/")}`) },
);
const query = fc.array(
  fc.tuple(
    fc.constantFrom("after", "id", "limit", "cursor", "status", "name", "x"),
    fc.oneof(
      fc.constantFrom("1 day", "0", "-5", "99999999999999999", "done", "user.*", ">", ""),
      fc.stringMatching(/^[\x21-\x7e]{0,12}$/),
    ),
  ),
  { maxLength: 3 },
);
const path = fc.tuple(route, query).map(([start, q]) =>
  `${start}${q.length ? "?" : ""}${q.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&")}`
);
const jsonBody = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.array(
    fc.record({
      name: fc.oneof(fc.constantFrom("a.b", "user.joined", ""), fc.string({ maxLength: 8 })),
      body: fc.jsonValue({ maxDepth: 2 }),
      after: fc.option(fc.oneof(fc.integer(), fc.constantFrom("1 hour", "soon"))),
      id: fc.option(fc.string({ maxLength: 8 })),
    }, { requiredKeys: ["name"] }),
    { maxLength: 4 },
  ).map((items) => JSON.stringify(items)),
  fc.string({ maxLength: 64 }),
);
const header = fc.tuple(
  fc.constantFrom(
    "content-type",
    "authorization",
    "edgebus-after",
    "idempotency-key",
    "edgebus-signature",
    "x-any",
    "content-length",
  ),
  fc.stringMatching(/^[\x21-\x7e]{0,40}$/),
);
const mostly = fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });
const request = fc.record({
  method: fc.constantFrom("GET", "POST", "POST", "POST", "DELETE", "PUT"),
  path,
  body: fc.option(jsonBody),
  headers: fc.array(header, { maxLength: 4 }),
  withToken: mostly,
  asJson: mostly,
  sign: fc.constantFrom("none", "good", "good", "good", "bad"),
});

type Sample = typeof request extends fc.Arbitrary<infer T> ? T : never;

async function toRequest(sample: Sample): Promise<Request> {
  const headers = new Headers(sample.headers);
  if (sample.withToken) headers.set("authorization", `Bearer ${TOKEN}`);
  if (sample.asJson) headers.set("content-type", "application/json");
  const hasBody = sample.body !== null && sample.method !== "GET";
  if (!hasBody) headers.delete("content-length");
  if (sample.sign !== "none") {
    const signed = sample.sign === "good" ? sample.body ?? "" : `${sample.body ?? ""} `;
    headers.set("edgebus-signature", await signBody(SECRET, hasBody ? signed : "", Date.now()));
  }
  return new Request(`http://edgebus.test${sample.path}`, {
    method: sample.method,
    headers,
    body: hasBody ? sample.body : undefined,
  });
}

async function check(options: Parameters<typeof router>[1], runs: number): Promise<void> {
  const bus = createBus();
  const app = router(bus, { ...options, onError: (error) => console.error("router 500:", error) });
  const count = async (): Promise<number> => (await bus.list({ limit: 1000 })).items.length;
  await fc.assert(
    fc.asyncProperty(request, async (sample) => {
      const before = await count();
      let req: Request;
      try {
        req = await toRequest(sample);
      } catch {
        return; // a request the Fetch API itself refuses never reaches a server
      }
      const response = await app.request(req);
      assert.ok(
        response.status < 500,
        `${response.status} for ${JSON.stringify(sample)}: ${await response.clone().text()}`,
      );
      const after = await count();
      if (response.status !== 202 || !/^\/events/.test(sample.path)) {
        assert.equal(after, before, `a refused or read-only request published: ${JSON.stringify(sample)}`);
      }
      if (response.status >= 400) {
        const body = await response.json() as { error?: { code?: unknown; message?: unknown } };
        assert.equal(typeof body.error?.code, "string");
        assert.equal(typeof body.error?.message, "string");
      }
    }),
    { numRuns: runs },
  );
  await bus.stop();
}

describe("hono router under random requests", () => {
  test("with tokens: never a 5xx, never a publish on a refusal, errors always JSON", async () => {
    await check({ tokens: [TOKEN] }, 400);
  }, 60_000);

  test("with tokens and signatures: never a 5xx, never a publish on a refusal", async () => {
    await check({ tokens: [TOKEN], signingSecrets: [SECRET], rateLimit: { limit: 50, window: 1_000 } }, 300);
  }, 60_000);
});
