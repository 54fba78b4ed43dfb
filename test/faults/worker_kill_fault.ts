/**
 * Fault 3: a worker process is killed with SIGKILL in the middle of a handler. Its events are
 * redelivered after the ack deadline to another worker of the group and complete there; the
 * handler that had already succeeded for an event is not run again.
 */
import { createBus } from "../../mod.ts";
import { natsDriver } from "../../adapters/nats/mod.ts";
import { startNatsServer } from "../nats/server.ts";
import { Ledger, SHORT, sleep, waitFor } from "./ledger.ts";
import { killWorker, ledgerFile, lines, startWorker } from "./processes.ts";

const EVENTS = SHORT ? 20 : 200;
const server = await startNatsServer();
const file = ledgerFile();
const env = { NATS_URL: server.wsUrl, PREFIX: "workerkill", LEDGER: file, SLOW_MS: "400" };
const ledger = new Ledger();

// The publisher runs no handlers and no scheduler: it only publishes.
const publisher = createBus({ driver: natsDriver({ servers: server.wsUrl, prefix: "workerkill", scheduler: false }) });
const first = await startWorker(env);
for (let seq = 0; seq < EVENTS; seq++) {
  ledger.ack("w", seq, await publisher.publish("fault.twostep", { id: `twostep-${seq}` }, { seq }));
}
// Kill the first worker while its slow second handler is running.
await waitFor(() => lines(file).filter(([w]) => w === "first").length >= 3, 20_000);
await sleep(150);
await killWorker(first);
const before = lines(file);
const firstDone = new Set(before.filter(([w]) => w === "first").map(([, seq]) => seq));
const secondDone = new Set(before.filter(([w]) => w === "second").map(([, seq]) => seq));
const interrupted = [...firstDone].filter((seq) => !secondDone.has(seq));
const second = await startWorker(env);
await waitFor(
  () => new Set(lines(file).filter(([w]) => w === "second").map(([, s]) => s)).size >= EVENTS,
  120_000,
  100,
);
await sleep(500);
second.kill("SIGTERM");
await new Promise((resolve) => second.once("exit", resolve));

const all = lines(file);
for (const [what, seq] of all) if (what === "second") ledger.effect("w", Number(seq));
const firstRuns = new Map<string, number>();
for (const [what, seq] of all) if (what === "first") firstRuns.set(seq, (firstRuns.get(seq) ?? 0) + 1);
for (const [seq, runs] of firstRuns) {
  if (runs > 1 && firstDone.has(seq)) ledger.unexpected(`handler "first" of event ${seq} ran ${runs} times`);
}
if (interrupted.length === 0) ledger.unexpected("the kill did not land inside a handler");
await publisher.stop();
await server.stop();
ledger.print("worker SIGKILL mid-handler", { interrupted: interrupted.length, events: EVENTS });
