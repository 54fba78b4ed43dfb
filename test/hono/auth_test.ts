import assert from "node:assert/strict";
import { createBus, EdgebusError } from "../../mod.ts";
import { router, signBody } from "../../adapters/hono/mod.ts";
import { bearerCheck } from "../../adapters/hono/bearer.ts";
import { usesNodeCrypto } from "../../adapters/hono/crypto.ts";
import { HttpError } from "../../adapters/hono/http_error.ts";
import { describe, test } from "../lib/t.ts";
import { errorOf, OLD_SECRET, OLD_TOKEN, SECRET, setup, signed, TOKEN } from "./helpers.ts";

const json = { "content-type": "application/json" };

describe("hono router auth", () => {
  test("a request without credentials gets 401 with WWW-Authenticate, and nothing is published", async () => {
    const { bus, app, records } = setup();
    for (
      const headers of [json, { ...json, authorization: "Basic dXNlcjpwYXNz" }, { ...json, authorization: "Bearer" }]
    ) {
      const response = await app.request("/events/user.joined", { method: "POST", body: "{}", headers });
      assert.equal(response.status, 401);
      assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.equal((await errorOf(response)).code, "unauthorized");
    }
    assert.equal((await app.request("/events")).status, 401);
    assert.equal((await app.request("/dead-letters")).status, 401);
    assert.deepEqual(await records(), []);
    await bus.stop();
  });

  test("a wrong bearer token gets 403 on every protected route, and nothing is published", async () => {
    const { bus, app, records } = setup();
    const wrong = { ...json, authorization: `Bearer ${TOKEN}x` };
    const routes: [string, string][] = [
      ["POST", "/events/user.joined"],
      ["POST", "/events"],
      ["GET", "/events"],
      ["GET", "/events/some-id"],
      ["DELETE", "/events/some-id"],
      ["GET", "/dead-letters"],
      ["POST", "/dead-letters/some-id/replay"],
      ["DELETE", "/dead-letters/some-id"],
    ];
    for (const [method, path] of routes) {
      const body = method === "POST" ? '[{"name":"a"}]' : undefined;
      const response = await app.request(path, { method, body, headers: wrong });
      assert.equal(response.status, 403, `${method} ${path}`);
      assert.equal((await errorOf(response)).code, "forbidden");
    }
    assert.deepEqual(await records(), []);
    await bus.stop();
  });

  test("several tokens are accepted at once, for rotation", async () => {
    const { bus, app } = setup({ tokens: [TOKEN, OLD_TOKEN] });
    for (const token of [TOKEN, OLD_TOKEN]) {
      const response = await app.request("/events", { headers: { authorization: `bearer ${token}` } });
      assert.equal(response.status, 200);
    }
    await bus.stop();
  });

  test("only a token presented whole and exact is accepted: not a prefix, an extension, a repeat or another case", () => {
    const check = bearerCheck([TOKEN, OLD_TOKEN]);
    assert.equal(check(`Bearer ${TOKEN}`), 0);
    assert.equal(check(`Bearer ${OLD_TOKEN}`), 1);
    for (
      const guess of [
        TOKEN.slice(0, -1),
        TOKEN.slice(1),
        `${TOKEN}x`,
        `${TOKEN}${TOKEN}`,
        TOKEN.slice(0, 8).repeat(Math.ceil(TOKEN.length / 8)).slice(0, TOKEN.length + 8),
        TOKEN.toUpperCase() === TOKEN ? TOKEN.toLowerCase() : TOKEN.toUpperCase(),
        `${TOKEN.slice(0, -1)}${String.fromCharCode(TOKEN.charCodeAt(TOKEN.length - 1) ^ 1)}`,
        "x",
      ]
    ) {
      assert.throws(
        () => check(`Bearer ${guess}`),
        (error) => error instanceof HttpError && error.status === 403,
        guess,
      );
    }
  });

  test("health and openapi.json are public", async () => {
    const { bus, app } = setup({ tokens: [TOKEN], signingSecrets: [SECRET] });
    assert.equal((await app.request("/health")).status, 200);
    assert.equal((await app.request("/openapi.json")).status, 200);
    await bus.stop();
  });

  test("a signed body is accepted with any of the signing secrets", async () => {
    const { bus, app } = setup({ signingSecrets: [SECRET, OLD_SECRET] });
    for (const secret of [SECRET, OLD_SECRET]) {
      const body = JSON.stringify({ signedWith: secret.length });
      const response = await app.request("/events/hook.received", {
        method: "POST",
        body,
        headers: { ...json, ...await signed(body, secret) },
      });
      assert.equal(response.status, 202);
    }
    const list = await app.request("/events", { headers: await signed("") });
    assert.equal(list.status, 200);
    assert.equal((await list.json()).items.length, 2);
    await bus.stop();
  });

  test("a missing signature gets 401; a wrong, tampered, stale or malformed one 403; nothing is published", async () => {
    const { bus, app, records } = setup({ signingSecrets: [SECRET] });
    const body = '{"amount":100}';
    const post = (headers: Record<string, string>, sent = body): Promise<Response> =>
      Promise.resolve(
        app.request("/events/payment.made", { method: "POST", body: sent, headers: { ...json, ...headers } }),
      );
    const missing = await post({});
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get("www-authenticate") ?? "", /^Edgebus-Signature/);
    assert.equal((await errorOf(missing)).code, "unauthorized");
    const cases: Record<string, string>[] = [
      await signed(body, "whsec_not_the_right_one"),
      await signed(body),
      // Well past the 300 s tolerance: the header floors its time to whole seconds, and a slow
      // machine spends some of the margin before the server reads its clock.
      await signed(body, SECRET, Date.now() - 310_000),
      await signed(body, SECRET, Date.now() + 310_000),
      { "edgebus-signature": "t=abc,v1=zz" },
      { "edgebus-signature": "v1=00" },
      // 64 characters, one of them not hex.
      { "edgebus-signature": `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(63)}g` },
    ];
    const tampered = '{"amount":900}';
    for (const [i, headers] of cases.entries()) {
      const response = await post(headers, i === 1 ? tampered : body);
      assert.equal(response.status, 403, `case ${i}`);
      assert.equal((await errorOf(response)).code, "forbidden");
    }
    assert.deepEqual(await records(), []);
    await bus.stop();
  });

  test("signatures use node:crypto's synchronous HMAC on Node and Bun, WebCrypto on Deno", () => {
    // The fast path falls back silently when it is missing: hold each runtime to the path it takes.
    const g = globalThis as { Deno?: unknown; process?: { getBuiltinModule?: unknown } };
    const expected = g.Deno === undefined && typeof g.process?.getBuiltinModule === "function";
    assert.equal(usesNodeCrypto(), expected);
    if (g.Deno === undefined) assert.equal(expected, true, "Node 20.16+ and Bun have process.getBuiltinModule");
  });

  test("a signature's hex may be upper-case", async () => {
    const bus = createBus();
    const app = router(bus, { signingSecrets: [SECRET] });
    const body = "{}";
    const [time, mac] = (await signBody(SECRET, body)).split(",v1=");
    for (const hex of [mac, mac.toUpperCase()]) {
      const headers = { ...json, "edgebus-signature": `${time},v1=${hex}` };
      assert.equal((await app.request("/events/a.b", { method: "POST", body, headers })).status, 202, hex);
    }
    const flipped = mac.slice(0, -1) + (mac.endsWith("0") ? "1" : "0");
    const headers = { ...json, "edgebus-signature": `${time},v1=${flipped}` };
    assert.equal((await app.request("/events/a.b", { method: "POST", body, headers })).status, 403);
    await bus.stop();
  });

  test("a signature within 300 s of the server's clock is accepted", async () => {
    let now = Date.UTC(2030, 0, 1);
    const bus = createBus();
    const app = router(bus, { signingSecrets: [SECRET], now: () => now });
    const body = "{}";
    const headers = { ...json, "edgebus-signature": await signBody(SECRET, body, now) };
    now += 299_000;
    assert.equal((await app.request("/events/a.b", { method: "POST", body, headers })).status, 202);
    now += 2_000;
    assert.equal((await app.request("/events/a.b", { method: "POST", body, headers })).status, 403);
    await bus.stop();
  });

  test("with tokens and secrets both configured, a request needs both", async () => {
    const { bus, app } = setup({ tokens: [TOKEN], signingSecrets: [SECRET] });
    const body = "{}";
    const auth = { authorization: `Bearer ${TOKEN}` };
    const post = (headers: Record<string, string>): Promise<Response> =>
      Promise.resolve(app.request("/events/a.b", { method: "POST", body, headers: { ...json, ...headers } }));
    assert.equal((await post(auth)).status, 401);
    assert.equal((await post(await signed(body))).status, 401);
    assert.equal((await post({ ...auth, ...await signed(body) })).status, 202);
    await bus.stop();
  });

  test("router() refuses to start with no auth unless auth: false is given", () => {
    const bus = createBus();
    const refused = [{}, { tokens: [] }, { auth: true as unknown as false }, { auth: false as const, tokens: [TOKEN] }];
    for (const options of refused) {
      assert.throws(
        () => router(bus, options),
        (error: unknown) => error instanceof EdgebusError && error.code === "invalid_option",
      );
    }
    assert.throws(() => router(bus, { tokens: ["short"] }), /too short/);
    assert.throws(() => router(bus, { tokens: ["has a space in it, long enough"] }), /without spaces/);
    // A token read from an unset environment variable is named as missing, not as bad ASCII.
    const unset = [TOKEN, undefined] as unknown as string[];
    assert.throws(() => router(bus, { tokens: unset }), /tokens\[1\]: the value is missing \(undefined\)/);
    assert.ok(router(bus, { auth: false }));
  });

  test("auth: false serves every route without credentials", async () => {
    const { bus, app } = setup({ auth: false });
    const response = await app.request("/events/open.door", { method: "POST", body: "{}", headers: json });
    assert.equal(response.status, 202);
    assert.equal((await app.request("/events")).status, 200);
    await bus.stop();
  });
});
