/**
 * Fault 5: delayed events across restarts of the server and of the scheduling process. Events
 * are published with delays of a few seconds; the scheduling worker is SIGKILLed, the server is
 * SIGKILLed and restarted, and a new worker starts. Every event must arrive once, none early.
 */
import { createBus } from "../../mod.ts";
import { natsDriver } from "../../adapters/nats/mod.ts";
import { startNatsServer } from "../nats/server.ts";
import { Ledger, SHORT, sleep, waitFor } from "./ledger.ts";
import { killWorker, ledgerFile, lines, startWorker } from "./processes.ts";

const EVENTS = SHORT ? 60 : 1_000;
const server = await startNatsServer();
const file = ledgerFile();
const env = { NATS_URL: server.wsUrl, PREFIX: "delayed", LEDGER: file };
const ledger = new Ledger();

const worker = await startWorker(env);
const publisher = createBus({ driver: natsDriver({ servers: server.wsUrl, prefix: "delayed", scheduler: false }) });
const dues = new Map<number, number>();
for (let seq = 0; seq < EVENTS; seq++) {
  const after = 4_000 + Math.floor((seq / EVENTS) * (SHORT ? 4_000 : 20_000));
  const id = await publisher.publish("fault.delayed", { after, id: `delayed-${seq}` }, { seq });
  ledger.ack("d", seq, id);
  dues.set(seq, (await publisher.get(id))!.due);
}
await publisher.stop();
await sleep(1_000);
await killWorker(worker); // the only scheduler dies
server.signal("SIGKILL"); // and the server with it
await sleep(1_000);
await server.restart();
const next = await startWorker(env);
const last = Math.max(...dues.values());
await waitFor(() => lines(file).filter(([w]) => w === "delayed").length >= EVENTS, last - Date.now() + 30_000, 100);
await sleep(1_000);
next.kill("SIGTERM");
await new Promise((resolve) => next.once("exit", resolve));

const late: number[] = [];
for (const [what, seq, due, at] of lines(file)) {
  if (what !== "delayed") continue;
  ledger.effect("d", Number(seq));
  if (Number(at) < Number(due) || Number(due) !== dues.get(Number(seq))) {
    ledger.unexpected(`event ${seq} arrived at ${at}, due ${due} (published as due ${dues.get(Number(seq))})`);
  }
  late.push(Number(at) - Number(due));
}
late.sort((a, b) => a - b);
await server.stop();
ledger.print("delayed events across server and scheduler restarts", {
  late_p50_ms: late[Math.floor(late.length / 2)] ?? -1,
  late_max_ms: late[late.length - 1] ?? -1,
});
