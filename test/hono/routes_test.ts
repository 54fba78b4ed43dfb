import assert from "node:assert/strict";
import { Hono } from "hono";
import { createBus, NonRetriableError } from "../../mod.ts";
import { describe, eventually, test } from "../lib/t.ts";
import { errorOf, setup, TOKEN } from "./helpers.ts";

describe("hono router routes", () => {
  test("POST /events/:name publishes the JSON body and answers 202 with the id", async () => {
    const { bus, send } = setup();
    const seen: unknown[] = [];
    bus.on("user.joined", (event) => void seen.push([event.body, event.origin]));
    const response = await send("/events/user.joined", { body: JSON.stringify({ user_id: "2b6m" }) });
    assert.equal(response.status, 202);
    const { id } = await response.json() as { id: string };
    assert.equal(response.headers.get("edgebus-event-id"), id);
    await eventually(() => seen.length === 1);
    assert.deepEqual(seen, [[{ user_id: "2b6m" }, "http"]]);
    await bus.stop();
  });

  test("POST /events/:name takes after and id from the query or the headers", async () => {
    const { bus, send } = setup();
    const before = Date.now();
    const byQuery = await send("/events/report.due?after=1%20day&id=report-7", { body: "null" });
    assert.equal(byQuery.status, 202);
    assert.deepEqual(await byQuery.json(), { id: "report-7" });
    const record = await bus.get("report-7");
    assert.equal(record?.status, "scheduled");
    assert.ok(record!.due >= before + 86_400_000 && record!.due <= Date.now() + 86_400_000);

    const byHeader = await send("/events/report.due", {
      body: "[1]",
      headers: { "edgebus-after": "5000", "idempotency-key": "report-8" },
    });
    assert.deepEqual(await byHeader.json(), { id: "report-8" });
    assert.equal((await bus.get("report-8"))?.delay, 5000);
    await bus.stop();
  });

  test("POST /publish/:name keeps a correlation id and an origin given in the query or the headers", async () => {
    const { bus, send } = setup();
    const byQuery = await send("/publish/invoice.sent?id=inv-1&correlationId=order-7&origin=billing-api", {
      body: "{}",
    });
    assert.equal(byQuery.status, 202);
    const byHeader = await send("/publish/invoice.paid?id=inv-2", {
      body: "{}",
      headers: { "edgebus-correlation-id": "order-7", "edgebus-origin": "stripe webhook" },
    });
    assert.equal(byHeader.status, 202);
    const [one, two] = [await bus.get("inv-1"), await bus.get("inv-2")];
    assert.deepEqual([one?.correlationId, one?.origin], ["order-7", "billing-api"]);
    assert.deepEqual([two?.correlationId, two?.origin], ["order-7", "stripe webhook"]);
    const chain = await bus.list({ correlationId: "order-7" });
    assert.deepEqual(chain.items.map((r) => r.id).sort(), ["inv-1", "inv-2"]);

    const badChain = await send("/publish/invoice.sent?correlationId=no%20spaces", { body: "{}" });
    assert.deepEqual([badChain.status, (await errorOf(badChain)).code], [400, "invalid_id"]);
    const badOrigin = await send("/publish/invoice.sent", {
      body: "{}",
      headers: { "edgebus-origin": "x".repeat(257) },
    });
    assert.deepEqual([badOrigin.status, (await errorOf(badOrigin)).code], [400, "invalid_option"]);
    const disagree = await send("/publish/invoice.sent?origin=a", { body: "{}", headers: { "edgebus-origin": "b" } });
    assert.deepEqual([disagree.status, (await errorOf(disagree)).code], [400, "invalid_option"]);
    assert.equal((await bus.list({})).items.length, 2, "a refused publish stored nothing");
    await bus.stop();
  });

  test("POST /events takes correlationId and origin per item, and marks the others as from http", async () => {
    const { bus, send } = setup();
    const response = await send("/events", {
      body: JSON.stringify([
        { name: "a.one", body: 1, id: "one", correlationId: "root-1", origin: "outbox" },
        { name: "a.two", body: 2, id: "two" },
      ]),
    });
    assert.equal(response.status, 202);
    const [one, two] = [await bus.get("one"), await bus.get("two")];
    assert.deepEqual([one?.correlationId, one?.origin], ["root-1", "outbox"]);
    assert.deepEqual([two?.correlationId, two?.origin], ["two", "http"]);
    const typo = await send("/events", { body: JSON.stringify([{ name: "a.one", correlationId: 7 }]) });
    assert.deepEqual([typo.status, (await errorOf(typo)).code], [400, "invalid_id"]);
    await bus.stop();
  });

  test("POST /events/:name with the same idempotency key stores the event once", async () => {
    const { bus, send, records } = setup();
    const first = await send("/events/order.paid?id=order-1", { body: '{"n":1}' });
    const again = await send("/events/order.paid", { body: '{"n":1}', headers: { "idempotency-key": "order-1" } });
    assert.deepEqual([first.status, again.status], [202, 202]);
    assert.deepEqual(await again.json(), { id: "order-1" });
    assert.equal((await records()).length, 1);
    await bus.stop();
  });

  test("POST /events publishes a batch and answers 202 with the ids in order", async () => {
    const { bus, send } = setup();
    const response = await send("/events", {
      body: JSON.stringify([
        { name: "a.one", body: 1 },
        { name: "a.two", body: { x: true }, after: "1 hour", id: "two" },
        { name: "a.three", after: 60_000 },
      ]),
    });
    assert.equal(response.status, 202);
    const { ids } = await response.json() as { ids: string[] };
    assert.equal(ids.length, 3);
    assert.equal(ids[1], "two");
    const names = await Promise.all(ids.map(async (id) => (await bus.get(id))?.name));
    assert.deepEqual(names, ["a.one", "a.two", "a.three"]);
    assert.equal((await bus.get("two"))?.status, "scheduled");
    await bus.stop();
  });

  test("GET /events pages through records newest first, filtered by name and status", async () => {
    const { bus, send } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        (await (await send(`/events/page.${i % 2 ? "odd" : "even"}?after=1%20hour`, { body: `${i}` })).json()).id,
      );
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const response = await send(`/events?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      assert.equal(response.status, 200);
      const page = await response.json() as { items: { id: string }[]; cursor?: string };
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.cursor;
    } while (cursor);
    assert.deepEqual(seen, [...ids].reverse());
    const odd = await (await send("/events?name=page.odd&status=scheduled&cursor=")).json() as {
      items: { id: string }[];
    };
    assert.deepEqual(odd.items.map((r) => r.id), [ids[3], ids[1]]);
    const none = await (await send("/events?status=done")).json() as { items: unknown[] };
    assert.deepEqual(none.items, []);
    await bus.stop();
  });

  test("GET /events cuts bodies with bodyLimit and lists a chain with correlationId", async () => {
    const { bus, send } = setup();
    const big = { text: "x".repeat(20_000) };
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const response = await send("/events/doc.saved?after=1%20hour&id=" + `doc-${i}`, { body: JSON.stringify(big) });
      ids.push((await response.json()).id);
    }
    const whole = await (await send("/events?limit=50")).text();
    const cut = await send("/events?limit=50&bodyLimit=0");
    assert.equal(cut.status, 200);
    const text = await cut.text();
    assert.ok(whole.length > 1_000_000 && text.length < 20_000, `${whole.length} bytes whole, ${text.length} cut`);
    const page = JSON.parse(text) as { items: { body: unknown; bodyCut: number }[] };
    assert.ok(page.items.every((r) => r.body === null && r.bodyCut === JSON.stringify(big).length));
    const chain = await (await send("/events?correlationId=doc-7")).json() as { items: { id: string }[] };
    assert.deepEqual(chain.items.map((r) => r.id), ["doc-7"]);
    const bad = await send("/events?bodyLimit=-1");
    assert.equal(bad.status, 400);
    assert.match((await errorOf(bad)).message, /bodyLimit/);
    assert.equal((await send("/events?correlationId=a%20b")).status, 400);
    await bus.stop();
  });

  test("GET /events/:id answers the record, or 404 for an unknown id", async () => {
    const { bus, send } = setup();
    const { id } = await (await send("/events/user.joined", { body: '{"a":1}' })).json();
    await eventually(async () => (await bus.get(id))?.status === "done");
    const found = await send(`/events/${id}`);
    assert.equal(found.status, 200);
    const record = await found.json();
    assert.equal(record.id, id);
    assert.equal(record.status, "done");
    assert.deepEqual(record.body, { a: 1 });
    const missing = await send("/events/no-such-event");
    assert.equal(missing.status, 404);
    assert.equal((await errorOf(missing)).code, "not_found");
    await bus.stop();
  });

  test("DELETE /events/:id cancels a delayed event; 404 when unknown, 409 when too late", async () => {
    const { bus, send } = setup();
    const { id } = await (await send("/events/later.thing?after=1%20hour", { body: "{}" })).json();
    const cancelled = await send(`/events/${id}`, { method: "DELETE" });
    assert.equal(cancelled.status, 200);
    assert.deepEqual(await cancelled.json(), { id, status: "cancelled" });
    assert.equal((await bus.get(id))?.status, "cancelled");
    const again = await send(`/events/${id}`, { method: "DELETE" });
    assert.equal(again.status, 409);
    assert.equal((await errorOf(again)).code, "conflict");
    const now = await (await send("/events/now.thing", { body: "{}" })).json();
    await eventually(async () => (await bus.get(now.id))?.status === "done");
    assert.equal((await send(`/events/${now.id}`, { method: "DELETE" })).status, 409);
    const unknown = await send("/events/nothing-here", { method: "DELETE" });
    assert.equal(unknown.status, 404);
    assert.equal((await errorOf(unknown)).code, "not_found");
    await bus.stop();
  });

  test("dead letters are listed, replayed (202) and deleted over HTTP", async () => {
    const { bus, send } = setup();
    let failing = true;
    bus.on("job.run", { id: "runner" }, () => {
      if (failing) throw new NonRetriableError("broken for now");
    });
    const { id } = await (await send("/events/job.run", { body: '{"job":1}' })).json();
    await eventually(async () => (await bus.get(id))?.status === "dead");
    const list = await send("/dead-letters?limit=10&name=job.>");
    assert.equal(list.status, 200);
    const page = await list.json() as {
      items: { id: string; handlers: Record<string, { error?: { message: string } }> }[];
    };
    assert.deepEqual(page.items.map((r) => r.id), [id]);
    assert.equal(page.items[0].handlers.runner.error?.message, "broken for now");

    failing = false;
    const replay = await send(`/dead-letters/${id}/replay`, { method: "POST" });
    assert.equal(replay.status, 202);
    assert.deepEqual(await replay.json(), { id });
    await eventually(async () => (await bus.get(id))?.status === "done");
    const notDead = await send(`/dead-letters/${id}/replay`, { method: "POST" });
    assert.equal(notDead.status, 409);
    assert.equal((await send(`/dead-letters/${id}`, { method: "DELETE" })).status, 409);
    assert.equal((await send("/dead-letters/unknown-id/replay", { method: "POST" })).status, 404);
    assert.equal((await send("/dead-letters/unknown-id", { method: "DELETE" })).status, 404);
    await bus.stop();
  });

  test("DELETE /dead-letters/:id removes a dead event for good", async () => {
    const { bus, send } = setup();
    bus.on("job.fail", () => {
      throw new NonRetriableError("no");
    });
    const { id } = await (await send("/events/job.fail", { body: "1" })).json();
    await eventually(async () => (await bus.get(id))?.status === "dead");
    const deleted = await send(`/dead-letters/${id}`, { method: "DELETE" });
    assert.equal(deleted.status, 200);
    assert.deepEqual(await deleted.json(), { id, deleted: true });
    assert.equal((await send(`/events/${id}`)).status, 404);
    assert.deepEqual((await (await send("/dead-letters")).json()).items, []);
    await bus.stop();
  });

  test("GET /health answers without auth; unknown routes get a JSON 404", async () => {
    const { bus, app } = setup();
    const health = await app.request("/health");
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
    const missing = await app.request("/nowhere", { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(missing.status, 404);
    assert.equal((await errorOf(missing)).code, "not_found");
    await bus.stop();
  });

  test("the router works mounted under a path of the user's own app", async () => {
    const bus = createBus();
    const { app } = setup({ tokens: [TOKEN] }, bus);
    const outer = new Hono().get("/", (c) => c.text("home")).route("/bus", app);
    assert.equal((await outer.request("/bus/health")).status, 200);
    const published = await outer.request("/bus/events/user.joined", {
      method: "POST",
      body: "{}",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    });
    assert.equal(published.status, 202);
    assert.equal((await outer.request("/bus/events")).status, 401);
    assert.equal(await (await outer.request("/")).text(), "home");
    await bus.stop();
  });

  test("a stopped bus answers 503 with Retry-After", async () => {
    const { bus, send } = setup();
    await bus.stop();
    const response = await send("/events/user.joined", { body: "{}" });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "5");
    assert.equal((await errorOf(response)).code, "stopped");
  });
});
