import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect as tcpConnect } from "@nats-io/transport-node";
import { natsDriver } from "../../adapters/nats/mod.ts";
import { createBus, EdgebusError } from "../../mod.ts";
import { afterAll, describe, test } from "../lib/t.ts";
import { freshPrefix, rejection, testDriver } from "./helpers.ts";
import { startNatsServer } from "./server.ts";

const server = await startNatsServer();
afterAll(() => server.stop());

describe("nats replicas", () => {
  test("natsDriver() refuses replicas outside 1 to 5", () => {
    for (const replicas of [0, 6, 1.5, -1]) {
      assert.throws(
        () => natsDriver({ replicas, servers: "127.0.0.1:1", connect: tcpConnect }),
        (error: unknown) =>
          error instanceof EdgebusError && error.code === "invalid_option" &&
          error.message === `Invalid replicas ${replicas}: expected a whole number from 1 to 5`,
      );
    }
  });

  test("replicas: 3 on a single server is refused with what to do", async () => {
    const bus = createBus({ driver: testDriver(server, { prefix: freshPrefix(), replicas: 3 }) });
    const error = await rejection(() => bus.publish("user.joined", {}), EdgebusError);
    assert.equal(error.code, "conflict");
    assert.match(error.message, /^Cannot create stream T\w+ with 3 replicas: /);
    assert.match(error.message, /on a single server pass `replicas: 1`$/);
    await bus.stop();
  });

  test("a stream made before with other storage is refused, named, and left as it was", async () => {
    const prefix = freshPrefix();
    const first = createBus({ driver: testDriver(server, { prefix, storage: "memory" }) });
    await first.publish("user.joined", { n: 1 });
    await first.stop();
    const second = createBus({ driver: testDriver(server, { prefix, storage: "file" }) });
    const error = await rejection(() => second.publish("user.joined", { n: 2 }), EdgebusError);
    assert.equal(error.code, "conflict");
    assert.match(error.message, /^Cannot use stream \w+: it exists with storage memory, not file\. /);
    assert.match(error.message, /delete it \(its events are lost\), or pass the driver options that match it$/);
    await second.stop();
    const nc = await tcpConnect({ servers: server.tcpUrl });
    const jsm = await jetstreamManager(nc);
    const stream = error.message.split(" ")[3].replace(":", "");
    assert.equal((await jsm.streams.info(stream)).config.storage, "memory");
    await nc.close();
  });

  test("a handler's consumer edited by hand to stop redelivering is refused at start, named, and left as it was", async () => {
    const prefix = freshPrefix();
    const first = createBus({ driver: testDriver(server, { prefix }) });
    first.on("user.joined", { id: "welcome" }, () => {});
    await first.start();
    await first.stop();
    const nc = await tcpConnect({ servers: server.tcpUrl });
    const jsm = await jetstreamManager(nc);
    const stream = (await jsm.streams.names().next()).find((name) =>
      name.startsWith(prefix.toUpperCase()) && name.endsWith("_EVENTS")
    );
    assert.ok(stream, "the events stream exists");
    const consumers = await jsm.consumers.list(stream).next();
    const events = consumers.find((c) => c.name.startsWith("h_"));
    assert.ok(events, "the handler's consumer exists");
    await jsm.consumers.update(stream, events.name, { max_deliver: 3 });

    const second = createBus({ driver: testDriver(server, { prefix }) });
    second.on("user.joined", { id: "welcome" }, () => {});
    const error = await rejection(() => second.start(), EdgebusError);
    assert.equal(error.code, "conflict");
    assert.equal(
      error.message,
      `Cannot use consumer ${events.name} on ${stream}: it exists with max_deliver 3, not unlimited (-1): edgebus ` +
        `counts attempts itself. edgebus neither uses nor changes a consumer set up otherwise: put it back ` +
        `(\`nats consumer edit ${stream} ${events.name}\`)`,
    );
    await second.stop();
    assert.equal((await jsm.consumers.info(stream, events.name)).config.max_deliver, 3);
    await nc.close();
  });
});
