/**
 * A rolling deploy under SIGKILL. Workers of version 1 (handler `welcome` of user.joined) and
 * version 2 (`welcome`, and `cleanup` of user.deleted) run together while a publish-only bus
 * publishes a steady mix of both events; midway one worker of each version is SIGKILLed and a
 * new version 2 worker starts. Every event's handlers run, `cleanup` only ever on version 2,
 * and every record, read from the publisher, is done by its handler (never "no handler").
 */
import { createBus, EdgebusError } from "../../mod.ts";
import { natsDriver } from "../../adapters/nats/mod.ts";
import { startNatsServer } from "../nats/server.ts";
import { Ledger, SHORT, sleep, waitFor } from "./ledger.ts";
import { killWorker, ledgerFile, lines, startWorker, stopWorker } from "./processes.ts";

const SECONDS = SHORT ? 8 : 40;
const PREFIX = "rolling";
const server = await startNatsServer();
const file = ledgerFile();
const base = { NATS_URL: server.wsUrl, PREFIX, LEDGER: file };
const v1 = { ...base, HANDLERS: "welcome", VERSION: "1" };
const v2 = { ...base, HANDLERS: "welcome,cleanup", VERSION: "2" };
const ledger = new Ledger();

// Both versions run before the first publish: a handler's consumer takes events published after it.
const workers = [await startWorker(v1), await startWorker(v2), await startWorker(v1), await startWorker(v2)];
const v2Pids = new Set([workers[1].pid, workers[3].pid]);
const publisher = createBus({ driver: natsDriver({ servers: server.wsUrl, prefix: PREFIX, scheduler: false }) });

const ids = new Map<string, string>(); // "<kind>/<seq>" to the event id
let rejected = 0;
const publishing = (async () => {
  const end = Date.now() + SECONDS * 1_000;
  for (let seq = 0; Date.now() < end; seq++) {
    await sleep(10);
    const kind = seq % 3 === 2 ? "deleted" : "joined";
    // A refused publish is tried again with the same id: at most one event per seq.
    for (;;) {
      try {
        const id = await publisher.publish(`user.${kind}`, { id: `${kind}-${seq}` }, { seq });
        ledger.ack(kind, seq, id);
        ids.set(`${kind}/${seq}`, id);
        break;
      } catch (error) {
        rejected++;
        if (!(error instanceof EdgebusError)) ledger.unexpected(`publish ${kind}/${seq} failed: ${String(error)}`);
        await sleep(100);
      }
    }
  }
})();

await sleep((SECONDS * 1_000) / 2);
await killWorker(workers[0]); // a version 1 worker
await killWorker(workers[1]); // a version 2 worker
const replacement = await startWorker(v2);
v2Pids.add(replacement.pid);
await publishing;

const effects = () => lines(file).filter(([what]) => what === "welcome" || what === "cleanup");
const done = await waitFor(() => new Set(effects().map(([w, s]) => `${w}/${s}`)).size >= ledger.acked, 60_000, 200);
if (!done) console.log("  not every acknowledged publish was handled within 60 s of the end");
await sleep(500);
for (const w of [workers[2], workers[3], replacement]) await stopWorker(w);

let onV2 = 0;
for (const [what, seq, pid, version] of effects()) {
  ledger.effect(what === "welcome" ? "joined" : "deleted", Number(seq));
  if (what !== "cleanup") continue;
  if (version !== "2" || !v2Pids.has(Number(pid))) {
    ledger.unexpected(`cleanup ${seq} ran on ${pid} (version ${version})`);
  } else onV2++;
}

// What any process sees: every record done by its handler, none marked as having no handler.
let checked = 0;
const entries = [...ids];
for (let i = 0; i < entries.length; i += 50) {
  await Promise.all(
    entries.slice(i, i + 50).map(async ([key, id]) => {
      const record = await publisher.get(id);
      const handler = key.startsWith("deleted") ? "cleanup" : "welcome";
      const result = Object.entries(record?.handlers ?? {}).find(([k]) => k.split(":").pop() === handler)?.[1];
      if (record?.status !== "done" || record.noHandler !== undefined || !result || result.attempts < 1) {
        ledger.unexpected(`record of ${key}: ${JSON.stringify(record && { ...record, body: undefined })}`);
      }
      checked++;
    }),
  );
}
await publisher.stop();
await server.stop();
ledger.print("rolling deploy under SIGKILL", {
  seconds: SECONDS,
  cleanup_on_v2: onV2,
  records_checked: checked,
  rejected_publishes: rejected,
}, {
  duplicated: "delivery is at least once: a handler that wrote its effect in a worker SIGKILLed before its " +
    "result was saved runs again after the ack wait (3 s)",
});
