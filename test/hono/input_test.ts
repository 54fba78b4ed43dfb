import assert from "node:assert/strict";
import { type } from "arktype";
import * as v from "valibot";
import { z } from "zod";
import { createBus, ValidationError } from "../../mod.ts";
import { MAX_BODY_BYTES } from "../../adapters/hono/mod.ts";
import { describe, test } from "../lib/t.ts";
import { countingStream, errorOf, setup, TOKEN } from "./helpers.ts";

const auth = { authorization: `Bearer ${TOKEN}` };

describe("hono router input safety", () => {
  test("a Content-Length over 256 KiB gets 413 before any of the body is read", async () => {
    const { bus, app, records } = setup();
    const { stream, pulled } = countingStream(new Uint8Array(1024), 1_000);
    const request = new Request("http://edgebus.test/events/big.one", {
      method: "POST",
      body: stream,
      headers: { ...auth, "content-type": "application/json", "content-length": String(MAX_BODY_BYTES + 1) },
      duplex: "half",
    } as RequestInit);
    const response = await app.request(request);
    assert.equal(response.status, 413);
    assert.equal((await errorOf(response)).code, "too_large");
    assert.equal(pulled(), 0);
    assert.deepEqual(await records(), []);
    await bus.stop();
  });

  test("a chunked body is refused with 413 as soon as it passes 256 KiB", async () => {
    const { bus, app, records } = setup();
    const { stream, pulled } = countingStream(new TextEncoder().encode(" ".repeat(1024)), 10_000);
    const request = new Request("http://edgebus.test/events", {
      method: "POST",
      body: stream,
      headers: { ...auth, "content-type": "application/json" },
      duplex: "half",
    } as RequestInit);
    const response = await app.request(request);
    assert.equal(response.status, 413);
    assert.ok(pulled() <= 260, `read ${pulled()} chunks of 1 KiB`);
    assert.deepEqual(await records(), []);
    await bus.stop();
  });

  test("a body of exactly 256 KiB is read; the event is then too large for the envelope (413)", async () => {
    const { bus, send, records } = setup();
    const body = JSON.stringify("x".repeat(MAX_BODY_BYTES - 2));
    assert.equal(body.length, MAX_BODY_BYTES);
    const response = await send("/events/big.body", { body });
    assert.equal(response.status, 413);
    assert.match((await errorOf(response)).message, /bytes as JSON/);
    const fits = await send("/events/big.body", { body: JSON.stringify("x".repeat(200_000)) });
    assert.equal(fits.status, 202);
    assert.equal((await records()).length, 1);
    await bus.stop();
  });

  test("a missing or non-JSON content type gets 415", async () => {
    const { bus, app, records } = setup();
    for (const type of [undefined, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]) {
      const headers: Record<string, string> = { ...auth };
      if (type) headers["content-type"] = type;
      const response = await app.request("/events/a.b", { method: "POST", body: "{}", headers });
      assert.equal(response.status, 415, String(type));
      assert.equal((await errorOf(response)).code, "unsupported_media_type");
    }
    for (const type of ["application/json; charset=utf-8", "application/cloudevents+json"]) {
      const response = await app.request("/events/a.b", {
        method: "POST",
        body: "{}",
        headers: { ...auth, "content-type": type },
      });
      assert.equal(response.status, 202, type);
    }
    assert.equal((await records()).length, 2);
    await bus.stop();
  });

  test("bad JSON, names, delays and ids get 400 with the error's code, and nothing is published", async () => {
    const { bus, app, send, records } = setup();
    const cases: [string, string, string][] = [
      ["/events/a.b", "{not json", "invalid_json"],
      ["/events/a.b", "", "invalid_json"],
      ["/events/a.b", "[".repeat(100) + "]".repeat(100), "invalid_json"],
      ["/events/a..b", "{}", "invalid_name"],
      [`/events/${"n".repeat(257)}`, "{}", "invalid_name"],
      ["/events/a%20b", "{}", "invalid_name"],
      ["/events/a.b?after=yesterday", "{}", "invalid_delay"],
      ["/events/a.b?after=2%20years", "{}", "invalid_delay"],
      ["/events/a.b?after=0", "{}", "invalid_delay"],
      ["/events/a.b?id=has%20space", "{}", "invalid_id"],
      ["/events/a.b?id=x&id=y", "{}", "invalid_option"],
      ["/events", "{}", "invalid_batch"],
      ["/events", "[]", "invalid_batch"],
      ["/events", '[{"name":"a.b","bdy":1}]', "invalid_batch"],
      ["/events", '[{"name":"a.b"},{"name":"a..b"}]', "invalid_name"],
      ["/events", '[{"name":"a.b"},{"name":"c.d","after":"-1 day"}]', "invalid_delay"],
      ["/events", '[{"name":"a.b","after":true}]', "invalid_delay"],
      ["/events", '[{"name":"a.b","id":7}]', "invalid_id"],
      ["/events", "[1]", "invalid_batch"],
    ];
    for (const [path, body, code] of cases) {
      const response = await send(path, { body });
      assert.equal(response.status, 400, `${path} ${body.slice(0, 40)}`);
      assert.equal((await errorOf(response)).code, code, `${path} ${body.slice(0, 40)}`);
    }
    const mixed = await send("/events/a.b?after=1%20day", { body: "{}", headers: { "edgebus-after": "2 days" } });
    assert.equal(mixed.status, 400);
    assert.equal((await errorOf(mixed)).code, "invalid_option");
    const noBody = await send("/events/a.b", { body: undefined, method: "POST" });
    assert.equal(noBody.status, 415);
    const notUtf8 = await app.request("/events/a.b", {
      method: "POST",
      body: new Uint8Array([0x22, 0xff, 0x22]),
      headers: { ...auth, "content-type": "application/json" },
    });
    assert.equal(notUtf8.status, 400);
    assert.match((await errorOf(notUtf8)).message, /UTF-8/);
    assert.deepEqual(await records(), []);
    await bus.stop();
  });

  test("a batch holds at most 100 events and is all or nothing", async () => {
    const { bus, send, records } = setup();
    const items = (n: number): string =>
      JSON.stringify(Array.from({ length: n }, (_, i) => ({ name: "bulk.item", body: i })));
    const over = await send("/events", { body: items(101) });
    assert.equal(over.status, 400);
    assert.match((await errorOf(over)).message, /1 to 100/);
    assert.deepEqual(await records(), []);
    const full = await send("/events", { body: items(100) });
    assert.equal(full.status, 202);
    assert.equal((await full.json()).ids.length, 100);
    assert.equal((await records()).length, 100);
    await bus.stop();
  });

  test("bad list queries and ids on the read routes get 400", async () => {
    const { bus, send } = setup();
    const cases: [string, string][] = [
      ["/events?limit=0", "invalid_option"],
      ["/events?limit=1001", "invalid_option"],
      ["/events?limit=ten", "invalid_option"],
      ["/events?status=lost", "invalid_option"],
      ["/events?name=a..b", "invalid_pattern"],
      ["/events?cursor=garbage", "invalid_option"],
      ["/dead-letters?limit=-1", "invalid_option"],
      ["/events/bad%20id", "invalid_id"],
      [`/events/${"i".repeat(257)}`, "invalid_id"],
    ];
    for (const [path, code] of cases) {
      const response = await send(path);
      assert.equal(response.status, 400, path);
      assert.equal((await errorOf(response)).code, code, path);
    }
    assert.equal((await send("/events/bad%20id", { method: "DELETE" })).status, 400);
    assert.equal((await send("/dead-letters/bad%20id/replay", { method: "POST" })).status, 400);
    await bus.stop();
  });

  for (
    const [vendor, schema] of [
      ["zod", z.object({ email: z.email(), age: z.number().int().min(0) })],
      [
        "valibot",
        v.object({ email: v.pipe(v.string(), v.email()), age: v.pipe(v.number(), v.integer(), v.minValue(0)) }),
      ],
      ["arktype", type({ email: "string.email", age: "number.integer >= 0" })],
    ] as const
  ) {
    test(`a ${vendor} schema on the bus refuses bad bodies over HTTP with 400 and the issues`, async () => {
      const bus = createBus({ schemas: { "user.joined": schema } });
      const { send, records } = setup(undefined, bus);
      const bad = await send("/events/user.joined", { body: JSON.stringify({ email: "nope", age: -1 }) });
      assert.equal(bad.status, 400);
      const error = await errorOf(bad);
      assert.equal(error.code, "invalid_body");
      const issues = error.issues as { message: string; path?: unknown[] }[];
      assert.deepEqual(issues.map((i) => i.path).sort(), [["age"], ["email"]]);
      const batch = await send("/events", {
        body: JSON.stringify([{ name: "other.thing", body: 1 }, { name: "user.joined", body: { email: "a@b.co" } }]),
      });
      assert.equal(batch.status, 400);
      assert.equal((await errorOf(batch)).code, "invalid_body");
      assert.deepEqual(await records(), []);
      await assert.rejects(bus.publish("user.joined", { email: 1 }), ValidationError);
      const good = await send("/events/user.joined", { body: JSON.stringify({ email: "a@b.co", age: 30 }) });
      assert.equal(good.status, 202);
      await bus.stop();
    });
  }

  test("the rate limit answers 429 with Retry-After per token, and publishes nothing", async () => {
    let now = Date.UTC(2030, 0, 1);
    const other = "tok_other_0123456789abcdef";
    const { bus, app, records } = setup({
      tokens: [TOKEN, other],
      rateLimit: { limit: 2, window: 10_000 },
      now: () => now,
    });
    const post = async (token: string): Promise<Response> =>
      await app.request("/events/a.b", {
        method: "POST",
        body: "{}",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      });
    assert.deepEqual([(await post(TOKEN)).status, (await post(TOKEN)).status], [202, 202]);
    const limited = await post(TOKEN);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "5");
    assert.equal((await errorOf(limited)).code, "rate_limited");
    assert.equal((await post(other)).status, 202);
    assert.equal((await records()).length, 3);
    now += 5_000;
    assert.equal((await post(TOKEN)).status, 202);
    assert.equal((await post(TOKEN)).status, 429);
    await bus.stop();
  });
});
