/**
 * Fault 6: JetStream runs out of storage (a tiny `max_file_store`). Publishes fail with a typed
 * error, nothing acknowledged is lost, and publishing recovers once space returns (the limit is
 * raised and the server restarted, as an operator would).
 */
import { createBus, EdgebusError } from "../../mod.ts";
import { natsDriver } from "../../adapters/nats/mod.ts";
import { startNatsServer } from "../nats/server.ts";
import { Ledger, SHORT, sleep, waitFor } from "./ledger.ts";

const server = await startNatsServer({ maxFileStore: SHORT ? "1MB" : "8MB" });
const ledger = new Ledger();
const bus = createBus({
  driver: natsDriver({ servers: server.wsUrl, prefix: "full", timeout: 2_000, tick: 50 }),
  retry: { minDelay: 100, maxDelay: 500, maxAttempts: 100 },
});
bus.on("fault.effect", (event) => ledger.effect("s", (event.body as { seq: number }).seq));
await bus.start();

const body = "x".repeat(2_000);
let seq = 0;
let refusals = 0;
let firstRefusal = "";
// Fill the store until publishes are refused several times in a row.
while (refusals < 5 && seq < 100_000) {
  try {
    const id = await bus.publish("fault.effect", { id: `full-${seq}` }, { seq, body });
    ledger.ack("s", seq, id);
    seq++;
    refusals = 0;
  } catch (error) {
    refusals++;
    if (!(error instanceof EdgebusError)) ledger.unexpected(`an untyped refusal: ${String(error)}`);
    firstRefusal ||= error instanceof EdgebusError ? `${error.code}: ${error.message}` : String(error);
    await sleep(50);
  }
}
const full = seq;
if (refusals < 5) ledger.unexpected(`the store never filled up (${seq} publishes)`);
if (!/out of storage/.test(firstRefusal)) {
  ledger.unexpected(`the refusal does not say storage is full: ${firstRefusal}`);
}
console.log(`  store full after ${full} publishes: ${firstRefusal.slice(0, 160)}`);

// Space returns: the operator raises the limit and restarts the server.
server.setMaxFileStore("1GB");
server.signal("SIGKILL");
await sleep(500);
await server.restart();
let recovered = false;
for (let tries = 0; tries < 100 && !recovered; tries++) {
  try {
    const id = await bus.publish("fault.effect", { id: `full-${seq}` }, { seq, body });
    ledger.ack("s", seq++, id);
    recovered = true;
  } catch {
    await sleep(200);
  }
}
if (!recovered) ledger.unexpected("publishing did not recover once space returned");
for (let i = 0; i < 20 && recovered; i++) {
  ledger.ack("s", seq, await bus.publish("fault.effect", { id: `full-${seq}` }, { seq, body }));
  seq++;
}
if (!await waitFor(() => ledger.complete(), 60_000, 100)) console.log("  not every acknowledged publish was handled");
await bus.stop();
await server.stop();
ledger.print("JetStream out of storage", { acked_before_full: full, recovered: String(recovered) });
