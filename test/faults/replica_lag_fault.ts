/**
 * A replica of the schedule falls behind: on a 3-node cluster (3 replicas), a follower of the
 * schedule stream is paused (SIGSTOP) while delayed events, and filler a day ahead, pour into
 * the schedule, then resumed. While it catches up, it answers the direct gets that reach it from
 * the state it has, without the newest messages: a scheduler that took its "no message" for an
 * empty bucket would pass that bucket for good, and its events would never run (seen as 100 to
 * 123 delayed events lost in 2 of 6 full runs of the cluster_kill case). Every acknowledged
 * delayed event must run, none early.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { wsconnect } from "@nats-io/nats-core";
import { createBus } from "../../mod.ts";
import { natsDriver } from "../../adapters/nats/mod.ts";
import { deriveNames } from "../../adapters/nats/names.ts";
import { startNatsCluster } from "../nats/cluster.ts";
import { Ledger, SHORT, sleep, waitFor } from "./ledger.ts";

const PREFIX = "lag";
const ROUNDS = SHORT ? 2 : 6;
const PAUSE = 3_000;

const cluster = await startNatsCluster(3);
const ledger = new Ledger();
const names = deriveNames(PREFIX, "default", {});
const bus = createBus({
  driver: natsDriver({ servers: cluster.wsUrls, prefix: PREFIX, replicas: 3, timeout: 2_000, ackWait: 5_000 }),
});
bus.on("lag.due", { id: "due" }, (event) => {
  const { seq, due } = event.body as { seq: number; due: number };
  const early = due - Date.now();
  if (early > 0) ledger.unexpected(`delayed event ${seq} ran ${early} ms early`);
  ledger.effect("d", seq);
});
await bus.start();
const observer = await wsconnect({ servers: cluster.wsUrls, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
const jsm = await jetstreamManager(observer, { timeout: 2_000, checkAPI: false });

let loading = true;
let refused = 0;
// Delayed events due 3.5 to 6 s out, so that each goes through the schedule: about 40 a second.
const delayed = (async () => {
  for (let seq = 0; loading; seq++) {
    const due = Date.now() + 3_500 + (seq * 173) % 2_500;
    try {
      ledger.ack("d", seq, await bus.publish("lag.due", { id: `d-${seq}`, after: new Date(due) }, { seq, due }));
    } catch {
      refused++; // not acknowledged: its effect is not owed
    }
    await sleep(25);
  }
})();
// Filler a day ahead, as fast as the cluster takes it: thousands of schedule messages for a
// paused follower to catch up on, which keeps it behind for a while once resumed.
const body = { padding: "x".repeat(2_000) };
const filler = Promise.all(Array.from({ length: 16 }, async () => {
  while (loading) await bus.publish("lag.later", { after: "1 day" }, body).catch(() => sleep(100));
}));

const paused: string[] = [];
for (let round = 0; round < ROUNDS; round++) {
  await sleep(2_000);
  const leader = await jsm.streams.info(names.scheduleStream).then((i) => i.cluster?.leader, () => undefined);
  const follower = cluster.nodes.find((n) => n.name !== leader && n.running);
  if (!leader || !follower) {
    ledger.unexpected(`round ${round}: the schedule stream had no leader`);
    continue;
  }
  follower.signal("SIGSTOP");
  paused.push(follower.name);
  await sleep(PAUSE);
  follower.signal("SIGCONT");
}
await sleep(3_000);
loading = false;
await Promise.all([delayed, filler]);
if (!await waitFor(() => ledger.complete(), 60_000, 100)) {
  console.log("  not every acknowledged delayed event ran within 60 s of the end");
}
await bus.stop();
await observer.close();
await cluster.stop();
ledger.print("a follower of the schedule paused and behind", { rounds: ROUNDS, paused: paused.join(","), refused });
