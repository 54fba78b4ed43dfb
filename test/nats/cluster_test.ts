/**
 * On a real 3-node JetStream cluster (one nats-server process per node, loopback ports): a
 * handler's consumer whose leader steps down, as in a rolling restart of the cluster, is pulled
 * from its new leader at once, told by JetStream's advisory of the new leader. Without it a lane
 * noticed only two missed heartbeats of the old leader, and handlers stood still for about 3 s
 * (measured on Bun: 3.2 s in 12 of 12 runs, against 0.3 s with it).
 */
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { wsconnect } from "@nats-io/nats-core";
import { connect as tcpConnect } from "@nats-io/transport-node";
import { createBus } from "../../mod.ts";
import { natsDriver } from "../../adapters/nats/mod.ts";
import { afterAll, describe, eventually, sleep, test } from "../lib/t.ts";
import { freshPrefix } from "./helpers.ts";
import { startNatsCluster } from "./cluster.ts";

const cluster = await startNatsCluster(3);
afterAll(() => cluster.stop());

// WebSocket where the runtime has one, TCP on Node 20 (as the other NATS tests).
const tcp = typeof (globalThis as { WebSocket?: unknown }).WebSocket !== "function";
const reach = tcp ? { servers: cluster.tcpUrls, connect: tcpConnect } : { servers: cluster.wsUrls, connect: wsconnect };

describe("nats cluster", () => {
  test(
    "a consumer leader that steps down: handlers run again from the new leader within 1.5 s, each event once",
    async () => {
      const prefix = freshPrefix();
      const bus = createBus({ driver: natsDriver({ ...reach, prefix, replicas: 3, storage: "memory" }) });
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
        // A steady load: 5 events every 25 ms, for 4 s.
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
        await eventually(() => runs.size === published - refused || undefined, 10_000);
        const after = (await jsm.consumers.info(stream, consumer.name)).cluster?.leader;
        assert.notEqual(after, before, "the step-down gave the consumer another leader");
        // The longest stillness of the handler from the step-down on, while events kept coming.
        const since = times.filter((t) => t >= stepped);
        let gap = since[0] - stepped;
        for (let i = 1; i < since.length; i++) gap = Math.max(gap, since[i] - since[i - 1]);
        assert.ok(gap < 1_500, `handlers stood still ${gap} ms after the step-down`);
        assert.equal(refused, 0, "a consumer's step-down refuses no publish");
        assert.deepEqual([...runs.values()].filter((count) => count !== 1), [], "each event ran once");
        assert.equal(runs.size, published);
      } finally {
        await nc.close();
        await bus.stop();
      }
    },
    40_000,
  );
});
