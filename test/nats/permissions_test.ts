/**
 * The README's permissions for a NATS user limited to what edgebus needs, held to a real
 * nats-server: a bus with exactly those runs a handler, a retry, a delayed event and a read; one
 * without the inbox subscription, or refused the event's subject, fails at once with the
 * server's reason.
 */
import assert from "node:assert/strict";
import { createBus, EdgebusError } from "../../mod.ts";
import { afterAll, describe, eventually, test } from "../lib/t.ts";
import { rejection, testDriver } from "./helpers.ts";
import { startNatsServer } from "./server.ts";

const PREFIX = "perm";
const server = await startNatsServer({
  config: [
    "authorization { users = [",
    `  { user: "worker", password: "w", permissions: { publish: ["${PREFIX}.>", "$JS.API.>", "$JS.ACK.>"], subscribe: ["_INBOX.>"] } }`,
    `  { user: "noinbox", password: "n", permissions: { publish: ["${PREFIX}2.>", "$JS.API.>", "$JS.ACK.>"], subscribe: ["other.>"] } }`,
    `  { user: "noevents", password: "e", permissions: { publish: { allow: ["${PREFIX}3.>", "$JS.API.>", "$JS.ACK.>"], deny: ["${PREFIX}3.ev.>"] }, subscribe: ["_INBOX.>"] } }`,
    "] }",
  ],
});
afterAll(() => server.stop());

/** The error a publish by this user gets: `unavailable`, well before the publish timeout (5 s). */
async function refusedAtOnce(prefix: string, user: { user: string; pass: string }): Promise<EdgebusError> {
  const bus = createBus({ driver: testDriver(server, { prefix, connection: user }) });
  const started = Date.now();
  const error = await rejection(() => bus.publish("perm.any", {}), EdgebusError);
  assert.equal(error.code, "unavailable");
  assert.ok(Date.now() - started < 4_000, `told after ${Date.now() - started} ms`);
  await bus.stop();
  return error;
}

describe("nats permissions", () => {
  test("a user with the README's permissions runs handlers, a retry, a delayed event and reads", async () => {
    const bus = createBus({
      driver: testDriver(server, { prefix: PREFIX, connection: { user: "worker", pass: "w" } }),
      retry: { maxAttempts: 3, minDelay: 50 },
    });
    let tries = 0;
    bus.on("perm.flaky", () => {
      if (++tries === 1) throw new Error("first try fails");
    });
    const ran: string[] = [];
    bus.on("perm.later", (event) => void ran.push(event.id));
    await bus.start();
    const flaky = await bus.publish("perm.flaky", { n: 1 });
    const later = await bus.publish("perm.later", { after: 300 }, { n: 2 });
    const record = await eventually(async () => {
      const found = await bus.get(flaky);
      return found?.status === "done" && ran.length === 1 ? found : undefined;
    }, 10_000);
    assert.deepEqual(ran, [later]);
    assert.deepEqual(Object.values(record.handlers).map((h) => [h.status, h.attempts]), [["done", 2]]);
    const listed = (await bus.list({ limit: 10 })).items.map((r) => r.id).sort();
    assert.deepEqual(listed, [flaky, later].sort());
    await bus.stop();
  });

  test("a user who may not subscribe to reply inboxes is told so at once, typed", async () => {
    const error = await refusedAtOnce(`${PREFIX}2`, { user: "noinbox", pass: "n" });
    assert.match(error.message, /permissions violation for subscription/i);
  });

  test("a publish the server refuses is told at once, typed, with the server's reason", async () => {
    const error = await refusedAtOnce(`${PREFIX}3`, { user: "noevents", pass: "e" });
    assert.match(error.message, /^Cannot publish "perm\.any": .*permissions violation for publish/i);
  });
});
