/**
 * Publish-to-handler-done throughput and latency on the NATS driver, in the same run (same
 * server, transport, 100 publishes in flight), against two nats.js peers:
 * 1. the raw loop: `js.publish` to one subject, a durable consumer, `ack`;
 * 2. the same JetStream operations as edgebus, made with nats.js's own calls: the publish as a
 *    compare-and-set on the event's own subject with a message id, and per message a
 *    compare-and-set write of the event's outcome (on "nothing yet": a first delivery skips the
 *    read), then the ack. This is the floor of edgebus's data model (an outcome written per
 *    handler run), apart from its code.
 *
 * With 100 publishes in flight, a consumer slower than the publisher falls behind, and the
 * latency figures then measure the backlog. The paced rows publish at a fixed rate that every
 * system keeps up with, so their latency is one event's own path.
 *
 * Both peers run with nats.js's per-request stack traces off, as edgebus's connections do.
 *
 * Run: `npx bun bench/nats_e2e.ts`, `npx deno run -A bench/nats_e2e.ts [--tcp]`.
 * `COUNT` sets the events of each saturated run (default 20,000).
 */
import { startNatsServer } from "../test/nats/server.ts";
import { row } from "./lib.ts";
import { percentile, rate, reach, RUNTIME } from "./nats_common.ts";
import { edgebus, IN_FLIGHT, type Make, measure, rawLoop, type Run, sameOperations } from "./nats_e2e_lib.ts";

const COUNT = Number(globalThis.process?.env?.COUNT ?? 20_000);
/** Paced runs: this many events a second, for this many events. */
const PACE = 2_000;
const PACED_COUNT = 4_000;

const server = await startNatsServer();
const { servers, connect, transport } = reach(server);
try {
  const systems: [string, Make][] = [
    ["raw consume+ack", rawLoop()],
    ["same operations", sameOperations()],
    ["edgebus", edgebus()],
  ];
  const saturated: Run[] = [];
  const paced: Run[] = [];
  let tag = 0;
  for (const [, make] of systems) saturated.push(await measure(make, servers, connect, `s${tag++}`, COUNT));
  for (const [, make] of systems) {
    paced.push(await measure(make, servers, connect, `p${tag++}`, PACED_COUNT, PACE));
  }
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  console.log(`nats publish -> handler done (${RUNTIME}, ${transport}, ${COUNT} events, ${IN_FLIGHT} in flight)`);
  systems.forEach(([name], k) => {
    const [s, p] = [saturated[k], paced[k]];
    console.log(
      `  ${name.padEnd(16)} ${rate(s.throughput)}  p50 ${ms(percentile(s.latency, 50))}  p99 ${
        ms(percentile(s.latency, 99))
      }  | at ${PACE}/s: p50 ${ms(percentile(p.latency, 50))}  p99 ${ms(percentile(p.latency, 99))}`,
    );
  });
  const [raw, same, bus] = saturated;
  const label = `over ${transport}, ${IN_FLIGHT} in flight`;
  row(
    `publish → handler done ${label}, events/s (vs raw consume+ack)`,
    rate(bus.throughput),
    rate(raw.throughput),
    (bus.throughput / raw.throughput).toFixed(2),
  );
  row(
    `publish → handler done ${label}, events/s (vs nats.js making edgebus's JetStream operations)`,
    rate(bus.throughput),
    rate(same.throughput),
    (bus.throughput / same.throughput).toFixed(2),
  );
  row(
    `nats.js making edgebus's JetStream operations ${label}, events/s (vs raw consume+ack)`,
    rate(same.throughput),
    rate(raw.throughput),
    (same.throughput / raw.throughput).toFixed(2),
  );
  for (const p of [50, 99]) {
    const [b, r] = [percentile(bus.latency, p), percentile(raw.latency, p)];
    row(`publish → handler done ${label}, p${p} ms (vs raw)`, b.toFixed(1), r.toFixed(1), (b / r).toFixed(2));
  }
  const [rawPaced, , busPaced] = paced;
  for (const p of [50, 99]) {
    const [b, r] = [percentile(busPaced.latency, p), percentile(rawPaced.latency, p)];
    row(
      `publish → handler done over ${transport}, paced at ${PACE.toLocaleString("en-US")}/s, p${p} ms (vs raw)`,
      b.toFixed(2),
      r.toFixed(2),
      (b / r).toFixed(2),
    );
  }
} finally {
  await server.stop();
}
