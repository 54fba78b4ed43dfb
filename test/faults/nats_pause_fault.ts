/**
 * Fault 2: nats-server is paused (SIGSTOP) for longer than the publish timeout, then resumed.
 * Publishes that timed out are retried with the same id and deduplicated: no effect is applied
 * twice because of a retry, and no acknowledged publish is lost.
 */
import { startNatsServer } from "../nats/server.ts";
import { SHORT, sleep, waitFor } from "./ledger.ts";
import { ledgerBus, produce, type PublishCounts } from "./nats_common.ts";

const PAUSES = SHORT ? 1 : 5;
const TIMEOUT = 1_000;

const server = await startNatsServer();
const { bus, ledger } = await ledgerBus({ servers: server.wsUrl, prefix: "pause", timeout: TIMEOUT, ackWait: 10_000 });

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
