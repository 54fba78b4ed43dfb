/**
 * remoteBus() against the real router (its Hono app answering the client's requests in process).
 * As the Postgres outbox's relay target it is tested in test/postgres/outbox_test.ts.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { createBus, EdgebusError } from "../../mod.ts";
import { router } from "../../adapters/hono/mod.ts";
import { remoteBus, RemoteBusError } from "../../adapters/remote/mod.ts";
import { eventually, test } from "../lib/t.ts";

const TOKEN = "tok_remote_0123456789abcdef";
const SECRET = "whsec_remote_0123456789abcdef";

function served(options: { signed?: boolean } = {}) {
  const bus = createBus();
  const runs = new Map<string, number>();
  bus.on("order.>", (event) => {
    runs.set(event.id, (runs.get(event.id) ?? 0) + 1);
  });
  const app = new Hono().route(
    "/bus",
    router(bus, { tokens: [TOKEN], ...(options.signed ? { signingSecrets: [SECRET] } : {}), onError: () => {} }),
  );
  const requests: Request[] = [];
  const fetch = async (request: Request) => {
    requests.push(request.clone());
    return await app.fetch(request);
  };
  return { bus, runs, fetch, requests };
}

test("remoteBus.publish() publishes through the router with a token and a signed body, keeping after and id", async () => {
  const { bus, runs, fetch, requests } = served({ signed: true });
  const remote = remoteBus("http://app.test/bus/", { token: TOKEN, signingSecret: SECRET, fetch });
  const now = await remote.publish("order.placed", { total: 3 });
  const later = await remote.publish("order.placed", { after: 60_000, id: "order-7" }, { total: 7 });
  assert.equal(later, "order-7");
  await eventually(() => runs.get(now) === 1);
  const record = await remote.get("order-7");
  assert.equal(record?.status, "scheduled");
  assert.deepEqual(record?.body, { total: 7 });
  assert.ok(Math.abs(record!.due! - (Date.now() + 60_000)) < 2_000);
  assert.match(requests[0].headers.get("Edgebus-Signature") ?? "", /^t=\d+,v1=[0-9a-f]{64}$/);
  assert.equal(await remote.get("no-such-event"), undefined);
  await bus.stop();
});

test("remoteBus.publishBatch() keeps ids, so a batch sent twice is one event each", async () => {
  const { bus, runs, fetch } = served();
  const remote = remoteBus("http://app.test/bus", { token: TOKEN, fetch });
  const items = [{ name: "order.a", body: 1, id: "a-1" }, { name: "order.b", body: 2, id: "b-1", after: 50 }];
  assert.deepEqual(await remote.publishBatch(items), ["a-1", "b-1"]);
  assert.deepEqual(await remote.publishBatch(items), ["a-1", "b-1"]);
  await eventually(() => runs.get("a-1") === 1 && runs.get("b-1") === 1);
  await bus.stop();
});

test("remoteBus keeps correlationId and origin, so a chain continues in the bus behind the router", async () => {
  const { bus, fetch, requests } = served();
  const remote = remoteBus("http://app.test/bus", { token: TOKEN, fetch });
  await remote.publish("order.shipped", { id: "ship-1", correlationId: "order-9", origin: "warehouse" }, {});
  await remote.publishBatch([
    { name: "order.billed", id: "bill-1", correlationId: "order-9", origin: "outbox", body: 1 },
    { name: "order.noted", id: "note-1", body: 2 },
  ]);
  const records = await Promise.all(["ship-1", "bill-1", "note-1"].map((id) => remote.get(id)));
  assert.deepEqual(records.map((r) => [r?.correlationId, r?.origin]), [
    ["order-9", "warehouse"],
    ["order-9", "outbox"],
    ["note-1", "http"],
  ]);
  assert.deepEqual((await bus.list({ correlationId: "order-9" })).items.map((r) => r.id).sort(), ["bill-1", "ship-1"]);
  assert.equal(new URL(requests[0].url).pathname, "/bus/publish/order.shipped", "the documented publish path");
  await bus.stop();
});

test("remoteBus errors: input refusals keep their code, auth and outages are unavailable", async () => {
  const { bus, fetch } = served({ signed: true });
  const remote = remoteBus("http://app.test/bus", { token: TOKEN, signingSecret: SECRET, fetch });
  await assert.rejects(remote.publish("order..bad", {}), (e: unknown) => {
    assert.ok(e instanceof RemoteBusError && e instanceof EdgebusError);
    assert.equal(e.code, "invalid_name");
    assert.equal(e.status, 400);
    return true;
  });
  const unsigned = remoteBus("http://app.test/bus", { token: TOKEN, fetch });
  await assert.rejects(unsigned.publish("order.placed", {}), (e: unknown) => {
    assert.ok(e instanceof RemoteBusError);
    assert.equal(e.status, 401);
    assert.equal(e.code, "unavailable");
    return true;
  });
  const wrongSecret = remoteBus("http://app.test/bus", {
    token: TOKEN,
    signingSecret: "whsec_wrong_0123456789",
    fetch,
  });
  await assert.rejects(wrongSecret.publish("order.placed", {}), (e: unknown) => (e as RemoteBusError).status === 403);
  // Nothing listens on port 9 of the loopback: a real fetch that cannot connect.
  const away = remoteBus("http://127.0.0.1:9/bus", { token: TOKEN, timeout: 2_000 });
  await assert.rejects(away.publish("order.placed", {}), (e: unknown) => {
    assert.ok(e instanceof RemoteBusError);
    assert.equal(e.status, 0);
    assert.equal(e.code, "unavailable");
    return true;
  });
  assert.throws(() => remoteBus("ftp://app.test"), /expected http/);
  await assert.rejects(remote.publishBatch([]), /send 1 to 100 events/);
  await bus.stop();
});
