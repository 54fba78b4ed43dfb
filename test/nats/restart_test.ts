import assert from "node:assert/strict";
import type { NatsConnectionLike } from "../../adapters/nats/mod.ts";
import { createBus, type Event } from "../../mod.ts";
import { afterAll, describe, eventually, sleep, test } from "../lib/t.ts";
import { DeliverPolicy, jetstreamManager } from "@nats-io/jetstream";
import { connect as tcpConnect } from "@nats-io/transport-node";
import { freshPrefix, reach, testDriver } from "./helpers.ts";
import { startNatsServer } from "./server.ts";

const server = await startNatsServer();
afterAll(() => server.stop());

describe("nats restarts", () => {
  test("a server restart mid-stream loses no acknowledged publish", async () => {
    const prefix = freshPrefix();
    const handled = new Set<string>();
    const consumer = createBus({ driver: testDriver(server, { prefix, storage: "file" }) });
    consumer.on("order.placed", (event) => void handled.add(event.id));
    await consumer.start();
    const publisher = createBus({
      driver: testDriver(server, { prefix, storage: "file", scheduler: false, timeout: 500 }),
    });
    const acked: string[] = [];
    let refused = 0;
    const publishing = (async () => {
      for (let i = 0; i < 150; i++) {
        await publisher.publish("order.placed", { i }).then((id) => acked.push(id), () => refused++);
        await sleep(5);
      }
    })();
    await eventually(() => acked.length >= 30, 10_000);
    await server.kill();
    await sleep(300);
    await server.restart();
    await publishing;
    assert.ok(acked.length >= 100, `only ${acked.length} publishes were acknowledged (${refused} refused)`);
    await eventually(() => acked.every((id) => handled.has(id)), 15_000);
    await Promise.all([consumer.stop(), publisher.stop()]);
  }, 40_000);

  test("delayed events survive a restart of the server and of the scheduling process", async () => {
    const prefix = freshPrefix();
    const first = createBus({ driver: testDriver(server, { prefix, storage: "file" }) });
    await first.start();
    const publishedAt = Date.now();
    const ids = await first.publishBatch(
      [3_500, 3_800, 4_100].map((after, i) => ({ name: "trial.ends", after, body: { i } })),
    );
    await first.stop();
    await server.kill();
    await server.restart();
    const seen: { event: Event; at: number }[] = [];
    const second = createBus({ driver: testDriver(server, { prefix, storage: "file" }) });
    second.on("trial.ends", (event) => void seen.push({ event, at: Date.now() }));
    await second.start();
    await eventually(() => seen.length === 3, 10_000);
    await sleep(300);
    assert.equal(seen.length, 3);
    assert.deepEqual(seen.map((s) => s.event.id).sort(), [...ids].sort());
    for (const { event, at } of seen) {
      assert.ok(at >= publishedAt + event.delay, `delivered ${publishedAt + event.delay - at} ms early`);
    }
    await second.stop();
  }, 30_000);

  test("a second scheduler takes over when the first dies, without double deliveries", async () => {
    const prefix = freshPrefix();
    const { servers, connect } = reach(server);
    const connections: NatsConnectionLike[] = [];
    const doomed = createBus({
      driver: testDriver(server, {
        prefix,
        servers,
        ackWait: 2_000, // see the survivor's
        connect: async (o) => {
          const nc = await connect(o);
          connections.push(nc);
          return nc;
        },
      }),
    });
    const runs = new Map<string, number>();
    doomed.on("reminder.due", (event) => void runs.set(event.id, (runs.get(event.id) ?? 0) + 1));
    await doomed.start();
    await sleep(200); // the first process holds the lease by now
    // In about 3 % of runs (seen on Bun, WebSocket and TCP, with or without a handler in the
    // doomed process) the survivor's own event consumer stalls on nats-server 2.9.10, which drops
    // a pull that expires as a message arrives without a 408 (fixed in 2.10.0; see
    // adapters/nats/ARCHITECTURE.md). The messages counted delivered to it come back only after
    // the ack wait; a short one keeps this test about the scheduler's takeover.
    const survivor = createBus({ driver: testDriver(server, { prefix, ackWait: 2_000 }) });
    survivor.on("reminder.due", (event) => void runs.set(event.id, (runs.get(event.id) ?? 0) + 1));
    await survivor.start();
    const ids = await survivor.publishBatch(
      Array.from({ length: 20 }, (_, i) => ({ name: "reminder.due", after: 3_500 + i * 50, body: { i } })),
    );
    // The first process dies without a word: its connection drops, its lease is never released.
    await Promise.all(connections.map((nc) => nc.close()));
    await eventually(() => runs.size === 20, 10_000);
    await sleep(500);
    assert.deepEqual(new Set(runs.keys()), new Set(ids));
    assert.deepEqual([...runs.values()].filter((n) => n !== 1), [], "an event was delivered twice");
    await Promise.all([survivor.stop(), doomed.stop().catch(() => {})]);
  }, 30_000);

  test("a consumer that delivers finished events again as first deliveries does not run them again", async () => {
    // What a server restarted from a consumer state older than its last acks does, made
    // deterministic: the handler's consumer is made again by hand to deliver the stream from its
    // start, so every finished event comes back with a delivery count of 1. The process pulls on,
    // and its first deliveries skip the outcome read only for messages stored after it knew of
    // the disruption (adapters/nats/fresh.ts).
    const prefix = freshPrefix();
    const admin = await tcpConnect({ servers: server.tcpUrl });
    const jsm = await jetstreamManager(admin);
    const bus = createBus({ driver: testDriver(server, { prefix }) });
    const runs = new Map<number, number>();
    bus.on("invoice.sent", (event) => {
      const i = (event.body as { i: number }).i;
      runs.set(i, (runs.get(i) ?? 0) + 1);
    });
    await bus.start();
    const first = await bus.publishBatch(Array.from({ length: 50 }, (_, i) => ({ name: "invoice.sent", body: { i } })));
    await eventually(() => runs.size === 50, 10_000);
    const stream = `${prefix.toUpperCase()}_EVENTS`;
    const infos = [];
    for await (const c of jsm.consumers.list(stream)) infos.push(c);
    const events = infos.find((c) => c.name.startsWith("h_"))!;
    await jsm.consumers.delete(stream, events.name);
    const { opt_start_time: _, ...config } = events.config;
    await jsm.consumers.add(stream, { ...config, deliver_policy: DeliverPolicy.All });
    const later = await bus.publishBatch(
      Array.from({ length: 50 }, (_, i) => ({ name: "invoice.sent", body: { i: 50 + i } })),
    );
    await eventually(() => runs.size === 100, 10_000);
    await sleep(1_000); // time for any of the first 50 to come back
    assert.deepEqual([...runs.entries()].filter(([, n]) => n !== 1), [], "a finished event ran again");
    for (const id of [first[0], later[0]]) {
      const record = await bus.get(id);
      assert.equal(record?.status, "done");
      assert.equal(Object.values(record!.handlers)[0].attempts, 1);
    }
    await bus.stop();
    await admin.close();
  }, 30_000);

  test("a handler whose consumers or stream were deleted takes new events again", async () => {
    const prefix = freshPrefix();
    const admin = await tcpConnect({ servers: server.tcpUrl });
    const jsm = await jetstreamManager(admin);
    const bus = createBus({ driver: testDriver(server, { prefix }) });
    const handled: unknown[] = [];
    bus.on("user.joined", (event) => void handled.push(event.body));
    await bus.start();
    await bus.publish("user.joined", 1);
    await eventually(() => handled.length === 1);
    const stream = `${prefix.toUpperCase()}_EVENTS`;
    const consumers = async () => {
      const names: string[] = [];
      for await (const c of jsm.consumers.list(stream)) names.push(c.name);
      return names.sort();
    };
    const made = await consumers();
    assert.equal(made.length, 2, `expected the handler's two consumers, found ${made.join(", ")}`);

    // An operator removes the handler's consumers (the server does the same to a consumer no
    // process pulled from for its inactive threshold): the process makes them again.
    for (const name of made) await jsm.consumers.delete(stream, name);
    await eventually(async () => (await consumers()).length === 2, 5_000);
    await bus.publish("user.joined", 2);
    await eventually(() => handled.length === 2, 5_000);

    // The whole stream goes, its events with it: the process makes it again, and its consumers.
    await jsm.streams.delete(stream);
    await eventually(async () => (await consumers().catch(() => [])).length === 2, 5_000);
    await bus.publish("user.joined", 3);
    await eventually(() => handled.length === 3, 5_000);
    assert.deepEqual(handled, [1, 2, 3]);
    await bus.stop();
    await admin.close();
  }, 30_000);
});
