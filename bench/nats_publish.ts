/**
 * Publish throughput: `bus.publish` on the NATS driver against raw `js.publish`, both acked by
 * JetStream, 100 in flight, 256-byte bodies, file storage, same server and transport.
 *
 * Run: `npx bun bench/nats_publish.ts`, `npx deno run -A bench/nats_publish.ts`,
 * `node --experimental-strip-types bench/nats_publish.ts` (Node uses TCP: it has no WebSocket).
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { createBus } from "../mod.ts";
import { natsDriver } from "../adapters/nats/mod.ts";
import { startNatsServer } from "../test/nats/server.ts";
import { row } from "./lib.ts";
import { pipelined, rate, rawConnection, reach, RUNTIME } from "./nats_common.ts";

const COUNT = Number(globalThis.process?.env?.COUNT ?? 20_000);
const IN_FLIGHT = 100;
const body = { data: "x".repeat(256 - 11) }; // 256 bytes as JSON

const server = await startNatsServer();
const { servers, connect, transport } = reach(server);
try {
  const raw = await rawConnection(connect, servers, "raw");
  const jsm = await jetstreamManager(raw);
  await jsm.streams.add({ name: "RAW", subjects: ["raw.>"], duplicate_window: 120_000_000_000 });
  const js = jetstream(raw);
  const payload = new TextEncoder().encode(JSON.stringify(body));
  await pipelined(2_000, IN_FLIGHT, (i) => js.publish("raw.warm", payload, { msgID: `w${i}` }));

  const bus = createBus({ driver: natsDriver({ servers, connect, prefix: "bench" }) });
  await pipelined(2_000, IN_FLIGHT, () => bus.publish("bench.warm", body));

  // edgebus turns nats.js's per-request stack traces off; the same client with them off too.
  const lean = await connect({
    servers: [servers],
    timeout: 5_000,
    name: "lean",
    maxReconnectAttempts: 0,
    reconnectTimeWait: 0,
    noAsyncTraces: true,
  } as never) as unknown as Parameters<typeof jetstream>[0];
  const jsLean = jetstream(lean);
  const rounds: { raw: number; lean: number; bus: number }[] = [];
  for (let r = 0; r < 3; r++) {
    const rawRate = await pipelined(COUNT, IN_FLIGHT, (i) => js.publish("raw.event", payload, { msgID: `r${r}-${i}` }));
    const leanRate = await pipelined(
      COUNT,
      IN_FLIGHT,
      (i) => jsLean.publish("raw.event", payload, { msgID: `l${r}-${i}` }),
    );
    const busRate = await pipelined(COUNT, IN_FLIGHT, () => bus.publish("bench.event", body));
    rounds.push({ raw: rawRate, lean: leanRate, bus: busRate });
  }
  const best = (k: "raw" | "lean" | "bus") => Math.max(...rounds.map((x) => x[k]));
  console.log(`nats publish (${RUNTIME}, ${transport}, ${COUNT} x 256 B, ${IN_FLIGHT} in flight, file storage)`);
  for (const [i, x] of rounds.entries()) {
    console.log(
      `  round ${i + 1}: raw js.publish ${rate(x.raw)}  (no async traces ${rate(x.lean)})  bus.publish ${
        rate(x.bus)
      }  ratio ${(x.bus / x.raw).toFixed(2)} / ${(x.bus / x.lean).toFixed(2)}`,
    );
  }
  console.log(
    `  best: raw ${rate(best("raw"))}  bus ${rate(best("bus"))}  ratio ${(best("bus") / best("raw")).toFixed(2)}`,
  );
  row(
    `acked publish over ${transport}, 256 B, ${IN_FLIGHT} in flight, msg/s (vs raw js.publish)`,
    rate(best("bus")),
    rate(best("raw")),
    (best("bus") / best("raw")).toFixed(2),
  );
  row(
    `acked publish over ${transport}, msg/s (vs raw js.publish, nats.js async traces off as in edgebus)`,
    rate(best("bus")),
    rate(best("lean")),
    (best("bus") / best("lean")).toFixed(2),
  );
  await bus.stop();
  await raw.close();
  await (lean as unknown as { close(): Promise<void> }).close();
} finally {
  await server.stop();
}
