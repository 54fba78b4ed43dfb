/**
 * The NATS driver on a 3-node JetStream cluster with 3 replicas, against raw nats.js on the same
 * cluster in the same run (R3 streams for both): acked publish throughput (100 in flight,
 * 256-byte bodies), and publish → handler done throughput (raw: a consume-and-ack loop; and
 * nats.js making edgebus's own JetStream operations, as in `nats_e2e.ts`).
 *
 * Run: `npx bun bench/nats_cluster.ts` (WebSocket), `npx deno run -A bench/nats_cluster.ts --tcp`.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { createBus } from "../mod.ts";
import { natsDriver } from "../adapters/nats/mod.ts";
import { startNatsCluster } from "../test/nats/cluster.ts";
import { row } from "./lib.ts";
import { pipelined, rate, reach, RUNTIME } from "./nats_common.ts";
import { edgebus, measure, rawLoop, sameOperations } from "./nats_e2e_lib.ts";

const COUNT = Number(globalThis.process?.env?.COUNT ?? 10_000);
const E2E_COUNT = Number(globalThis.process?.env?.E2E_COUNT ?? 5_000);
const IN_FLIGHT = 100;
const REPLICAS = 3;
const body = { data: "x".repeat(256 - 11) }; // 256 bytes as JSON

const cluster = await startNatsCluster(3);
// One node's transport tells which URL list to use: every node's, as a user of a cluster connects.
const { connect, transport } = reach({ wsUrl: "", tcpUrl: "" } as never);
const servers = transport === "tcp" ? cluster.tcpUrls : cluster.wsUrls;
const options = { servers, timeout: 5_000, maxReconnectAttempts: 0, reconnectTimeWait: 0, noAsyncTraces: true };

/** Publish figures, best of the rounds, msg/s. */
interface Publish {
  /** Raw nats.js as it comes (per-request stack traces on). */
  raw: number;
  /**
   * Raw nats.js with edgebus's client settings (stack traces off) and edgebus's write: a subject
   * per event, a compare-and-set on it, a message id.
   */
  rawCas: number;
  bus: number;
}

/** Acked publishes, raw and through the bus, in alternating rounds so that neither gets the warmer cluster. */
async function publishRuns(): Promise<Publish> {
  // deno-lint-ignore no-explicit-any
  const nc: any = await connect({ ...options, noAsyncTraces: false, name: "raw" } as never);
  // deno-lint-ignore no-explicit-any
  const lean: any = await connect({ ...options, name: "lean" } as never);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "RAW", subjects: ["raw.>"], num_replicas: REPLICAS, duplicate_window: 120e9 });
  const js = jetstream(nc);
  const jsLean = jetstream(lean);
  const payload = new TextEncoder().encode(JSON.stringify(body));
  const bus = createBus({ driver: natsDriver({ servers, connect, prefix: "clpub", replicas: REPLICAS }) });
  await pipelined(2_000, IN_FLIGHT, (i) => js.publish("raw.warm", payload, { msgID: `w${i}` }));
  await pipelined(2_000, IN_FLIGHT, () => bus.publish("bench.warm", body));
  const best = { raw: 0, rawCas: 0, bus: 0 };
  for (let r = 0; r < 2; r++) {
    const raw = await pipelined(COUNT, IN_FLIGHT, (i) => js.publish("raw.event", payload, { msgID: `r${r}-${i}` }));
    const rawCas = await pipelined(
      COUNT,
      IN_FLIGHT,
      (i) => jsLean.publish(`raw.ev.c${r}-${i}`, payload, { msgID: `c${r}-${i}`, expect: { lastSubjectSequence: 0 } }),
    );
    const ours = await pipelined(COUNT, IN_FLIGHT, () => bus.publish("bench.event", body));
    console.log(`  round ${r + 1}: raw ${rate(raw)}  raw lean with edgebus's write ${rate(rawCas)}  bus ${rate(ours)}`);
    best.raw = Math.max(best.raw, raw);
    best.rawCas = Math.max(best.rawCas, rawCas);
    best.bus = Math.max(best.bus, ours);
  }
  await bus.stop();
  await nc.close();
  await lean.close();
  return best;
}

/** Publish → handler done: the raw loop, nats.js making edgebus's operations, and the bus, each on its own R3 streams. */
async function e2eRuns(): Promise<{ raw: number; same: number; bus: number }> {
  const [raw, same, bus] = [rawLoop(REPLICAS), sameOperations(REPLICAS), edgebus(REPLICAS)];
  return {
    raw: (await measure(raw, servers, connect, "c1", E2E_COUNT)).throughput,
    same: (await measure(same, servers, connect, "c2", E2E_COUNT)).throughput,
    bus: (await measure(bus, servers, connect, "c3", E2E_COUNT)).throughput,
  };
}

try {
  console.log(`nats cluster: 3 nodes, R${REPLICAS} (${RUNTIME}, ${transport}, ${IN_FLIGHT} in flight, 256 B)`);
  const pub = await publishRuns();
  const e2e = await e2eRuns();
  console.log(
    `  publish -> done: raw ${rate(e2e.raw)}  nats.js with edgebus's operations ${rate(e2e.same)}  bus ${
      rate(e2e.bus)
    }`,
  );
  const label = `3 nodes, R${REPLICAS}`;
  row(
    `acked publish, ${label}, ${transport}, ${IN_FLIGHT} in flight, msg/s (vs raw js.publish)`,
    rate(pub.bus),
    rate(pub.raw),
    (pub.bus / pub.raw).toFixed(2),
  );
  row(
    `acked publish, ${label}, msg/s (vs raw, traces off, edgebus's write)`,
    rate(pub.bus),
    rate(pub.rawCas),
    (pub.bus / pub.rawCas).toFixed(2),
  );
  row(
    `publish → handler done, ${label}, ${transport}, events/s (vs raw consume+ack)`,
    rate(e2e.bus),
    rate(e2e.raw),
    (e2e.bus / e2e.raw).toFixed(2),
  );
  row(
    `publish → handler done, ${label}, ${transport}, events/s (vs nats.js making edgebus's JetStream operations)`,
    rate(e2e.bus),
    rate(e2e.same),
    (e2e.bus / e2e.same).toFixed(2),
  );
} finally {
  await cluster.stop();
}
