/**
 * On a real 3-node JetStream cluster (one nats-server process per node, loopback ports): a
 * handler's consumer whose leader steps down, as in a rolling restart of the cluster, is pulled
 * from its new leader at once, told by JetStream's advisory of the new leader. Without it a lane
 * noticed only two missed heartbeats of the old leader, and handlers stood still for about 3 s
 * (measured on Bun: 2.7 s in 9 of 13 runs, 30 s in the other 4, against 0.3 s with it). A user
 * not allowed to hear advisories still gets there on the heartbeats, without the 30 s.
 */
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { wsconnect } from "@nats-io/nats-core";
import { connect as tcpConnect } from "@nats-io/transport-node";
import { createBus } from "../../mod.ts";
import { natsDriver } from "../../adapters/nats/mod.ts";
import { afterAll, describe, eventually, sleep, test } from "../lib/t.ts";
import { freshPrefix, hasWebSocket } from "./helpers.ts";
import { startNatsCluster } from "./cluster.ts";

// `worker` has the README's permissions, which leave out the advisories; anyone else may do anything.
const cluster = await startNatsCluster(3, [
  "authorization { users = [",
  `  { user: "admin", password: "a" }`,
  `  { user: "worker", password: "w", permissions: { publish: ["lim.>", "$JS.API.>", "$JS.ACK.>"], subscribe: ["_INBOX.>"] } }`,
  "] }",
  "no_auth_user: admin",
]);
afterAll(() => cluster.stop());

// WebSocket where the runtime has one, TCP on Node 20 (as the other NATS tests).
const reach = hasWebSocket
  ? { servers: cluster.wsUrls, connect: wsconnect }
  : { servers: cluster.tcpUrls, connect: tcpConnect };

interface StepDown {
  /** The longest the handler stood still from the step-down on, ms. */
  readonly gap: number;
  /** How long after the load ended every event had run, ms. */
  readonly drained: number;
}

/**
 * Runs a steady load (5 events every 25 ms for 4 s) through a bus with 3 replicas, steps its
 * handler's consumer leader down 1.5 s in, and checks that every event ran once, none refused.
 */
async function stepDownUnderLoad(prefix: string, user?: { user: string; pass: string }): Promise<StepDown> {
  const bus = createBus({
    driver: natsDriver({ ...reach, prefix, replicas: 3, storage: "memory", connection: user }),
  });
  const runs = new Map<number, number>();
  const times: number[] = [];
  bus.on("load.tick", (event) => {
    const n = (event.body as { n: number }).n;
    runs.set(n, (runs.get(n) ?? 0) + 1);
    times.push(Date.now());
  });
  await bus.start();
  const nc = await reach.connect({ servers: reach.servers });
  try {
    const jsm = await jetstreamManager(nc);
    const stream = `${prefix.toUpperCase()}_EVENTS`;
    let published = 0;
    let refused = 0;
    const load = (async () => {
      for (let round = 0; round < 160; round++) {
        for (let k = 0; k < 5; k++) {
          bus.publish("load.tick", { n: published++ }).catch(() => refused++);
        }
        await sleep(25);
      }
    })();
    await sleep(1_500);
    const consumer = (await (await jsm.consumers.list(stream)).next()).find((c) => c.name.startsWith("h_"));
    assert.ok(consumer, "the handler's consumer");
    const before = consumer.cluster?.leader;
    const stepped = Date.now();
    await nc.request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${stream}.${consumer.name}`, undefined, { timeout: 5_000 });
    await load;
    const ended = Date.now();
    await eventually(() => runs.size === published - refused || undefined, 20_000);
    const drained = Date.now() - ended;
    const after = (await jsm.consumers.info(stream, consumer.name)).cluster?.leader;
    assert.notEqual(after, before, "the step-down gave the consumer another leader");
    const since = times.filter((t) => t >= stepped);
    let gap = since[0] - stepped;
    for (let i = 1; i < since.length; i++) gap = Math.max(gap, since[i] - since[i - 1]);
    assert.equal(refused, 0, "a consumer's step-down refuses no publish");
    assert.deepEqual([...runs.values()].filter((count) => count !== 1), [], "each event ran once");
    assert.equal(runs.size, published);
    return { gap, drained };
  } finally {
    await nc.close();
    await bus.stop();
  }
}

describe("nats cluster", () => {
  test(
    "a consumer leader that steps down: handlers run again from the new leader within 1.5 s, each event once",
    async () => {
      const { gap, drained } = await stepDownUnderLoad(freshPrefix());
      assert.ok(gap < 1_500, `handlers stood still ${gap} ms after the step-down`);
      assert.ok(drained < 2_000, `the last events ran ${drained} ms after the load`);
    },
    40_000,
  );

  test("a user not allowed to hear advisories follows a step-down on the heartbeats, in seconds", async () => {
    const { gap, drained } = await stepDownUnderLoad("lim", { user: "worker", pass: "w" });
    assert.ok(gap < 6_000, `handlers stood still ${gap} ms after the step-down`);
    assert.ok(drained < 6_000, `the last events ran ${drained} ms after the load`);
  }, 60_000);
});
