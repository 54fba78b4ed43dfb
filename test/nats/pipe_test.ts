/**
 * The driver's lean JetStream requests (adapters/nats/pipe.ts) against a real nats-server: what
 * each answer turns into, since the rest of the driver reads these errors the way it reads
 * nats.js's (an `err_code`, "no responders", "timeout").
 */
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { hasApiCode, unavailable, WRONG_LAST_SEQUENCE } from "../../adapters/nats/errors.ts";
import { LAST_SUBJECT_SEQUENCE, MSG_ID, pipeFor } from "../../adapters/nats/pipe.ts";
import { afterAll, describe, test } from "../lib/t.ts";
import { freshPrefix, reach, rejection } from "./helpers.ts";
import { type NatsServer, startNatsServer } from "./server.ts";

const server = await startNatsServer();
afterAll(() => server.stop());
const encoder = new TextEncoder();

/** A connection of the test's own to `to`, with more options (a user) when given. */
async function connectTo(to: NatsServer, more: Record<string, string> = {}): Promise<NatsConnection> {
  const { servers, connect } = reach(to);
  const options = {
    servers: [servers],
    timeout: 5_000,
    name: "pipe test",
    maxReconnectAttempts: 0,
    reconnectTimeWait: 0,
  };
  return await connect({ ...options, ...more } as never) as NatsConnection;
}

async function open(): Promise<{ nc: NatsConnection; stream: string; subjects: string }> {
  const nc = await connectTo(server);
  const prefix = freshPrefix();
  const stream = prefix.toUpperCase();
  await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [`${prefix}.>`], allow_direct: true });
  return { nc, stream, subjects: prefix };
}

/**
 * Runs `check` on a connection of user "u" to a server of its own, where that user has
 * `permissions`; the server is stopped whatever happens (a failed test would otherwise leave it
 * running under Bun).
 */
async function asUser(permissions: string, check: (nc: NatsConnection) => Promise<void>): Promise<void> {
  const own = await startNatsServer({
    config: [`authorization { users = [ { user: "u", password: "p", permissions: ${permissions} } ] }`],
  });
  try {
    const nc = await connectTo(own, { user: "u", pass: "p" });
    await check(nc);
    await nc.close();
  } finally {
    await own.stop();
  }
}

describe("nats pipe", () => {
  test("a publish is acknowledged with its stream and sequence; a repeated message id is a duplicate", async () => {
    const { nc, stream, subjects } = await open();
    const pipe = pipeFor(nc);
    assert.equal(pipeFor(nc), pipe, "one pipe per connection");
    const first = await pipe.publish(`${subjects}.a`, encoder.encode("1"), [[MSG_ID, "m1"]], 2_000);
    assert.deepEqual(first, { stream, seq: 1, duplicate: false });
    const again = await pipe.publish(`${subjects}.a`, encoder.encode("1"), [[MSG_ID, "m1"]], 2_000);
    assert.deepEqual(again, { stream, seq: 1, duplicate: true });
    await nc.close();
  });

  test("a compare-and-set on a subject's last sequence passes once and then refuses with JetStream's code", async () => {
    const { nc, subjects } = await open();
    const pipe = pipeFor(nc);
    const subject = `${subjects}.out.x`;
    const ack = await pipe.publish(subject, encoder.encode("v1"), [[LAST_SUBJECT_SEQUENCE, "0"]], 2_000);
    const error = await rejection(() =>
      pipe.publish(subject, encoder.encode("v1 again"), [[LAST_SUBJECT_SEQUENCE, "0"]], 2_000)
    );
    assert.ok(hasApiCode(error, WRONG_LAST_SEQUENCE), `expected err_code ${WRONG_LAST_SEQUENCE}: ${error.message}`);
    assert.match(error.message, /wrong last sequence/);
    await pipe.publish(subject, encoder.encode("v2"), [[LAST_SUBJECT_SEQUENCE, String(ack.seq)]], 2_000);
    await nc.close();
  });

  test("a direct get answers a subject's last message, and undefined for a subject that holds none", async () => {
    const { nc, stream, subjects } = await open();
    const pipe = pipeFor(nc);
    assert.equal(await pipe.last(stream, `${subjects}.none`, 2_000), undefined);
    await pipe.publish(`${subjects}.k`, encoder.encode("old"), [], 2_000);
    await pipe.publish(`${subjects}.other`, encoder.encode("x"), [], 2_000);
    const last = await pipe.publish(`${subjects}.k`, encoder.encode("new"), [], 2_000);
    const found = await pipe.last(stream, `${subjects}.k`, 2_000);
    assert.equal(found?.seq, last.seq);
    assert.equal(new TextDecoder().decode(found?.data), "new");
    await nc.close();
  });

  test("a subject no stream takes answers no responders, which the driver reports as no leader", async () => {
    const { nc } = await open();
    const error = await rejection(() => pipeFor(nc).publish(`${freshPrefix()}.nobody`, encoder.encode("x"), [], 2_000));
    assert.equal(error.message, "no responders");
    assert.match(unavailable('publish "a"', error).message, /the stream has no leader at the moment/);
    await nc.close();
  });

  test("a request nobody answers gives up after its timeout, and a closed connection refuses at once", async () => {
    const { nc, subjects } = await open();
    const pipe = pipeFor(nc);
    // Someone listens (so the server does not answer "no responders") but never replies; no
    // stream takes the subject.
    const quiet = freshPrefix();
    const silent = nc.subscribe(`${quiet}.>`);
    await nc.flush();
    const started = Date.now();
    const error = await rejection(() => pipe.publish(`${quiet}.a`, encoder.encode("x"), [], 300));
    const waited = Date.now() - started;
    assert.equal(error.message, "timeout");
    assert.ok(waited >= 300 && waited < 1_500, `gave up after ${waited} ms`);
    assert.match(unavailable('publish "a"', error).message, /did not answer in time/);
    silent.unsubscribe();
    await nc.close();
    const closed = await rejection(() => pipe.publish(`${subjects}.b`, encoder.encode("x"), [], 300));
    assert.equal(closed.message, "connection closed");
  });

  test("a reply subscription the server refuses fails every request at once with the server's reason", async () => {
    // A user who may not subscribe to reply inboxes: nobody could ever answer this connection.
    await asUser('{ subscribe: { deny: ["_INBOX.>"] } }', async (nc) => {
      const pipe = pipeFor(nc);
      const started = Date.now();
      const error = await rejection(() => pipe.publish("anything.a", encoder.encode("x"), [], 3_000));
      assert.match(error.message, /permissions violation/i);
      assert.ok(Date.now() - started < 2_000, `refused after ${Date.now() - started} ms, not at the timeout`);
      const next = await rejection(() => pipe.last("S", "anything.b", 3_000));
      assert.equal(next, error);
    });
  });

  test("a request to a subject the user may not publish to fails at once, and the others still get answers", async () => {
    await asUser('{ publish: { deny: ["denied.>"] } }', async (nc) => {
      await (await jetstreamManager(nc)).streams.add({ name: "OPEN", subjects: ["open.>"], allow_direct: true });
      const pipe = pipeFor(nc);
      const started = Date.now();
      const [refused, taken] = await Promise.allSettled([
        pipe.publish("denied.a", encoder.encode("x"), [], 3_000),
        pipe.publish("open.a", encoder.encode("y"), [], 3_000),
      ]);
      assert.equal(refused.status, "rejected");
      assert.match(String((refused as PromiseRejectedResult).reason?.message), /permissions violation/i);
      assert.ok(Date.now() - started < 2_000, `refused after ${Date.now() - started} ms, not at the timeout`);
      assert.equal(taken.status, "fulfilled");
      assert.equal((taken as PromiseFulfilledResult<{ stream: string }>).value.stream, "OPEN");
    });
  });
});
