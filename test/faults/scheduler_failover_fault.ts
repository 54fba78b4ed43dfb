/**
 * The scheduler's lease holder is SIGKILLed while delayed events fall due. Three workers take
 * part in scheduling (default lease of 750 ms, rounds of 250 ms); the one holding the lease is
 * killed (twice at full scale), and another takes over. No event may be lost or arrive early;
 * how late events due during the takeover arrive is measured and printed (the aim is at most
 * 1 s), not judged. The killed worker also consumed: an event it had received and not yet
 * handled comes back after the consumers' ack wait (3 s here), which `late_over_1s` counts.
 */
import { createBus } from "../../mod.ts";
import { natsDriver } from "../../adapters/nats/mod.ts";
import { startFailover } from "./failover.ts";
import { Ledger, SHORT, sleep, waitFor } from "./ledger.ts";
import { killWorker, lines, stopWorker } from "./processes.ts";

const EVENTS = SHORT ? 200 : 1_000;
const KILLS = SHORT ? 1 : 2;
const PREFIX = "failover";
const { server, file, nc, workers, leader } = await startFailover(PREFIX);
const ledger = new Ledger();

// Due 2 to 6 s after the start, spread evenly; published 20 at a time so all are out within the first second or two.
const publisher = createBus({ driver: natsDriver({ servers: server.wsUrl, prefix: PREFIX, scheduler: false }) });
const start = Date.now();
for (let from = 0; from < EVENTS; from += 20) {
  await Promise.all(Array.from({ length: Math.min(20, EVENTS - from) }, async (_, i) => {
    const seq = from + i;
    const after = Math.max(1, start + 2_000 + Math.floor((4_000 * seq) / EVENTS) - Date.now());
    ledger.ack("d", seq, await publisher.publish("fault.delayed", { after, id: `failover-${seq}` }, { seq }));
  }));
}
const published = Date.now() - start;

// Kill the lease holder while events are due, and time until another holds it.
const failovers: { killed: number; at: number; takenAt: number }[] = [];
await sleep(Math.max(0, start + 3_000 - Date.now()));
for (let k = 0; k < KILLS; k++) {
  const pid = await leader();
  const victim = workers.find((w) => w.pid === pid);
  if (!victim) {
    ledger.unexpected(`no live worker holds the lease before kill ${k + 1} (lease names ${pid})`);
    break;
  }
  const at = Date.now();
  await killWorker(victim);
  workers.splice(workers.indexOf(victim), 1);
  await waitFor(async () => ![undefined, pid].includes(await leader()), 10_000, 10);
  failovers.push({ killed: pid!, at, takenAt: Date.now() });
  await sleep(1_000);
}

const delayed = () => lines(file).filter(([what]) => what === "delayed");
await waitFor(() => new Set(delayed().map(([, seq]) => seq)).size >= EVENTS, 30_000, 100);
await sleep(500);
for (const w of workers) await stopWorker(w);

const firstAt = new Map<number, { due: number; at: number }>();
let early = 0;
for (const [, s, due, at] of delayed()) {
  const seq = Number(s);
  ledger.effect("d", seq);
  if (Number(at) < Number(due)) {
    early++;
    ledger.unexpected(`event ${seq} arrived at ${at}, ${Number(due) - Number(at)} ms early`);
  }
  const seen = firstAt.get(seq);
  if (!seen || Number(at) < seen.at) firstAt.set(seq, { due: Number(due), at: Number(at) });
}
const sorted = (values: number[]) => values.sort((a, b) => a - b);
const pick = (values: number[], q: number) =>
  values.length ? values[Math.min(values.length - 1, Math.floor(values.length * q))] : -1;
const late = sorted([...firstAt.values()].map(({ due, at }) => at - due));
// Events due from the kill until another process held the lease: nobody was scheduling them.
const during = sorted(
  [...firstAt.values()].filter(({ due }) => failovers.some((f) => due >= f.at && due <= f.takenAt))
    .map(({ due, at }) => at - due),
);
await nc.close();
await publisher.stop();
await server.stop();
ledger.print("scheduler leader SIGKILL while events are due", {
  kills: failovers.length,
  publish_ms: published,
  takeover_ms: failovers.map((f) => f.takenAt - f.at).join(",") || -1,
  late_p50_ms: pick(late, 0.5),
  late_p99_ms: pick(late, 0.99),
  late_max_ms: pick(late, 1),
  late_over_1s: late.filter((ms) => ms > 1_000).length,
  failover_events: during.length,
  failover_late_p50_ms: pick(during, 0.5),
  failover_late_max_ms: pick(during, 1),
  early,
}, {
  duplicated: "delivery is at least once: an event whose handler wrote its effect in the killed worker before " +
    "its result was saved runs again after the ack wait (3 s)",
});
