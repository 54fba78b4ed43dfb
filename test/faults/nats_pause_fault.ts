/**
 * Fault 2: nats-server is paused (SIGSTOP) for longer than the publish timeout, then resumed.
 * Publishes that timed out are retried with the same id and deduplicated: no effect is applied
 * twice because of a retry, and no acknowledged publish is lost.
 */
import { createBus } from "../../mod.ts";
import { natsDriver } from "../../adapters/nats/mod.ts";
import { startNatsServer } from "../nats/server.ts";
import { Ledger, SHORT, sleep, waitFor } from "./ledger.ts";
import { produce, type PublishCounts } from "./nats_common.ts";

const PAUSES = SHORT ? 1 : 5;
const TIMEOUT = 1_000;

const server = await startNatsServer();
const ledger = new Ledger();
const bus = createBus({
  driver: natsDriver({ servers: server.wsUrl, prefix: "pause", timeout: TIMEOUT, ackWait: 10_000, tick: 50 }),
  retry: { minDelay: 200, maxDelay: 1_000, maxAttempts: 50 },
});
bus.on("fault.effect", (event) => {
  const { producer, seq } = event.body as { producer: string; seq: number };
  ledger.effect(producer, seq);
});
await bus.start();

const counts: PublishCounts = { acked: 0, rejected: 0 };
let pausing = true;
const producers = Promise.all(
  Array.from(
    { length: 4 },
    (_, p) => produce(bus, ledger, `p${p}`, () => pausing, counts, Date.now() + (SHORT ? 60_000 : 300_000)),
  ),
);
for (let i = 0; i < PAUSES; i++) {
  await sleep(1_000);
  server.signal("SIGSTOP");
  await sleep(TIMEOUT * 6); // well past the publish timeout
  server.signal("SIGCONT");
}
await sleep(1_000);
pausing = false;
await producers;
if (!await waitFor(() => ledger.complete(), 60_000, 100)) console.log("  not every acknowledged publish was handled");
await bus.stop();
await server.stop();
ledger.print("nats-server SIGSTOP past the publish timeout", { pauses: PAUSES, rejected_publishes: counts.rejected });
