/**
 * Cancel during a scheduler failover. Delayed events (3 to 8 s out) are published from a
 * publish-only bus; the worker holding the scheduler's lease, with some of them read and held
 * for their due time, is SIGKILLed, and while another takes over, half of the events are
 * cancelled from the publisher. An event whose cancel answered true never runs (its record
 * says cancelled); every other one runs.
 */
import { createBus } from "../../mod.ts";
import { natsDriver } from "../../adapters/nats/mod.ts";
import { startFailover } from "./failover.ts";
import { Ledger, SHORT, sleep, waitFor } from "./ledger.ts";
import { killWorker, lines, stopWorker } from "./processes.ts";

const EVENTS = SHORT ? 100 : 500;
const PREFIX = "cancelover";
const { server, file, nc, workers, leader } = await startFailover(PREFIX);
const ledger = new Ledger();

const publisher = createBus({ driver: natsDriver({ servers: server.wsUrl, prefix: PREFIX, scheduler: false }) });
const start = Date.now();
const ids: string[] = [];
const dues: number[] = [];
for (let from = 0; from < EVENTS; from += 20) {
  await Promise.all(Array.from({ length: Math.min(20, EVENTS - from) }, async (_, i) => {
    const seq = from + i;
    const after = Math.max(1, start + 3_000 + Math.floor((5_000 * seq) / EVENTS) - Date.now());
    dues[seq] = Date.now() + after;
    ids[seq] = await publisher.publish("fault.delayed", { after, id: `cancelover-${seq}` }, { seq });
  }));
}

// A second in, the leader holds the events due in the next two seconds in timers: kill it then.
await sleep(Math.max(0, start + 4_000 - Date.now()));
const pid = await leader();
const victim = workers.find((w) => w.pid === pid);
if (!victim) throw new Error(`no live worker holds the lease (lease names ${pid})`);
const killedAt = Date.now();
await killWorker(victim);
workers.splice(workers.indexOf(victim), 1);

// Cancel every other event, 10 at a time, while the lease is still the dead worker's.
const cancelled = new Set<number>();
let refused = 0;
let cancelsBeforeTakeover = 0;
let takenAt = 0;
const watching = waitFor(async () => ![undefined, pid].includes(await leader()), 10_000, 10).then(() => {
  takenAt = Date.now();
});
const evens = ids.map((_, seq) => seq).filter((seq) => seq % 2 === 0);
for (let i = 0; i < evens.length; i += 10) {
  await Promise.all(
    evens.slice(i, i + 10).map(async (seq) => {
      if (await publisher.cancel(ids[seq])) cancelled.add(seq);
      else refused++;
      if (!takenAt) cancelsBeforeTakeover++;
    }),
  );
}
await watching;
if (cancelled.size === 0) ledger.unexpected("no cancel answered true: the case tested nothing");
for (let seq = 0; seq < EVENTS; seq++) if (!cancelled.has(seq)) ledger.ack("d", seq, ids[seq]);

// Wait for everything due, then past the ack wait (3 s), so that a cancelled event that slipped through shows.
const delayed = () => lines(file).filter(([what]) => what === "delayed");
await waitFor(
  () => new Set(delayed().map(([, seq]) => seq)).size >= ledger.acked,
  start + 8_000 - Date.now() + 30_000,
  100,
);
await sleep(Math.max(0, start + 8_000 + 4_000 - Date.now()));
for (const w of workers) await stopWorker(w);

for (const [, s, due, at] of delayed()) {
  const seq = Number(s);
  if (cancelled.has(seq)) ledger.unexpected(`event ${seq} ran at ${at} (due ${due}) though its cancel answered true`);
  else ledger.effect("d", seq);
}
for (const seq of cancelled) {
  const status = (await publisher.get(ids[seq]))?.status;
  if (status !== "cancelled") ledger.unexpected(`event ${seq} was cancelled, its record says ${status}`);
}
await nc.close();
await publisher.stop();
await server.stop();
ledger.print("cancel during a scheduler failover", {
  events: EVENTS,
  cancelled: cancelled.size,
  cancel_false: refused,
  cancels_before_takeover: cancelsBeforeTakeover,
  cancelled_due_in_takeover: [...cancelled].filter((seq) => dues[seq] >= killedAt && dues[seq] <= takenAt).length,
  takeover_ms: takenAt ? takenAt - killedAt : -1,
}, {
  duplicated: "delivery is at least once: an event whose handler wrote its effect in the killed worker before " +
    "its result was saved runs again after the ack wait (3 s)",
});
