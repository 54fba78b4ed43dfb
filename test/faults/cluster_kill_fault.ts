/**
 * A node of a 3-node JetStream cluster (streams and consumers with 3 replicas) is SIGKILLed
 * under a steady load of publishes, handlers and delayed events, and brought back: in turn a
 * follower, the leader of the events stream, of the records (outcomes), of the schedule, of a
 * handler's consumer, and of the lease stream; then a rolling restart, each node in turn stopped
 * with SIGTERM (nats-server's graceful shutdown, which hands its leaderships over) and started
 * again at once; last, the events stream's leader is lost for good. The short suite runs one case (the events stream's leader); `CLUSTER_CASES=consumer,lost`
 * picks cases. Nothing acknowledged may be lost, no delayed event may run early, and every
 * refused publish must be a typed `unavailable`.
 * Each case measures what the loss costs and judges it against the aims: publishes refused only
 * while the node's streams elect new leaders (within 1 s of it; a publish in flight to the
 * killed node itself is refused at its timeout), handlers running again within 2 s of the new
 * leaders, delayed events at most 2 s late beyond that.
 */
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { wsconnect } from "@nats-io/nats-core";
import { createBus, EdgebusError } from "../../mod.ts";
import { natsDriver } from "../../adapters/nats/mod.ts";
import { deriveNames, keyToken } from "../../adapters/nats/names.ts";
import { startNatsCluster } from "../nats/cluster.ts";
import { Ledger, SHORT, sleep, waitFor } from "./ledger.ts";

const PREFIX = "cluster";
const TIMEOUT = 2_000;
/** ms of load before a kill, and after a node is back. */
const SETTLE = SHORT ? 2_000 : 3_000;
const OUTAGE = 10_000;
const only = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.CLUSTER_CASES;
const CASES = only ? only.split(",") : SHORT ? ["events"] : [
  "follower",
  "events",
  "outcomes",
  "schedule",
  "consumer",
  "meta",
  "rolling-n1",
  "rolling-n2",
  "rolling-n3",
  "lost",
];
/** The aims, ms. */
const AIM = { refusedPastLeader: 1_000, handlersPastLeader: 2_000, delayedPastLeader: 2_000 };

const cluster = await startNatsCluster(3);
const ledger = new Ledger();
const names = deriveNames(PREFIX, "default", {});
const effects: number[] = []; // when each effect ran
const delayed: { due: number; at: number; seq: number }[] = [];
// When each publish was acknowledged and each effect first ran, to name what a case lost.
const ackedAt = new Map<string, number>();
const ranAt = new Map<string, number>();
const kills: number[] = [];
const bus = createBus({
  driver: natsDriver({ servers: cluster.wsUrls, prefix: PREFIX, replicas: 3, timeout: TIMEOUT, ackWait: 5_000 }),
  retry: { minDelay: 200, maxDelay: 1_000, maxAttempts: 100 },
});
bus.on("fault.effect", { id: "effect" }, (event) => {
  const { producer, seq } = event.body as { producer: string; seq: number };
  effects.push(Date.now());
  if (!ranAt.has(`${producer}/${seq}`)) ranAt.set(`${producer}/${seq}`, Date.now());
  ledger.effect(producer, seq);
});
bus.on("fault.delayed", { id: "delayed" }, (event) => {
  const { seq, due } = event.body as { seq: number; due: number };
  const at = Date.now();
  if (!delayed.some((d) => d.due === due && d.at <= at)) delayed.push({ due, at, seq });
  if (at < due) ledger.unexpected(`delayed event ${seq} ran ${due - at} ms early`);
  if (!ranAt.has(`d/${seq}`)) ranAt.set(`d/${seq}`, at);
  ledger.effect("d", seq);
});
await bus.start();

// What each case may kill: the node leading one of these.
const observer = await wsconnect({ servers: cluster.wsUrls, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
const jsm = await jetstreamManager(observer, { timeout: 700, checkAPI: false });
const assets: Record<
  string,
  (m: JetStreamManager) => Promise<{ cluster?: { leader?: string }; config: { num_replicas?: number } }>
> = {
  events: (m) => m.streams.info(names.routes[0].stream),
  outcomes: (m) => m.streams.info(names.outcomesStream),
  schedule: (m) => m.streams.info(names.scheduleStream),
  delayed: (m) => m.streams.info(names.delayedStream),
  meta: (m) => m.streams.info(names.metaStream),
  consumer: (m) => m.consumers.info(names.routes[0].stream, `h_${keyToken("effect")}`),
  retries: (m) => m.consumers.info(names.routes[0].stream, `r_${keyToken("effect")}`),
  delayedConsumer: (m) => m.consumers.info(names.routes[0].stream, `h_${keyToken("delayed")}`),
};
const leaders = async (): Promise<Record<string, string | undefined>> =>
  Object.fromEntries(
    await Promise.all(
      Object.entries(assets).map(async ([k, info]) => [k, (await info(jsm).catch(() => undefined))?.cluster?.leader]),
    ),
  );
// Everything a handler run needs, and everything a publish needs.
const FOR_HANDLERS = ["events", "outcomes", "consumer", "retries", "delayedConsumer"];
const FOR_PUBLISH = ["events", "outcomes", "schedule", "delayed"];

// Load: two producers of plain events (about 100 a second) and one of delayed events (1 to 6 s ahead).
let loading = true;
const refusals: { at: number; error: unknown }[] = [];
const publishing = async (producer: string, pace: number, delay: boolean) => {
  for (let seq = 0; loading; seq++) {
    await sleep(pace);
    let due = Date.now() + 1_000 + (seq * 137) % 5_000;
    for (;;) {
      due = Math.max(due, Date.now() + 500); // a publish tried again must still be in the future
      try {
        const id = delay
          ? await bus.publish("fault.delayed", { id: `${producer}-${seq}`, after: new Date(due) }, { seq, due })
          : await bus.publish("fault.effect", { id: `${producer}-${seq}` }, { producer, seq });
        ledger.ack(delay ? "d" : producer, seq, id);
        ackedAt.set(`${delay ? "d" : producer}/${seq}`, Date.now());
        break;
      } catch (error) {
        refusals.push({ at: Date.now(), error });
        if (!(error instanceof EdgebusError) || error.code !== "unavailable") {
          ledger.unexpected(`publish ${producer}/${seq} failed with ${String(error)}`);
        }
        await sleep(100);
      }
    }
  }
};
const producers = Promise.all([publishing("p0", 20, false), publishing("p1", 20, false), publishing("d", 50, true)]);

// Every stream and consumer the driver made has 3 replicas.
for (const [k, info] of Object.entries(assets)) {
  const found = await info(jsm);
  if (found.config.num_replicas !== 3) ledger.unexpected(`${k} has ${found.config.num_replicas} replicas, not 3`);
}

const results: Record<string, string | number>[] = [];
await sleep(SETTLE);
for (const name of CASES) {
  const before = await leaders();
  const wanted = name === "lost" ? "events" : name;
  const led = (node: string) => Object.keys(before).filter((k) => before[k] === node);
  // A rolling restart's step: this node, stopped gracefully and started again at once.
  const rolling = name.startsWith("rolling-");
  const victimName = rolling
    ? name.slice("rolling-".length)
    : wanted === "follower"
    ? cluster.nodes.map((n) => n.name).sort((a, b) => led(a).length - led(b).length)[0]
    : before[wanted];
  if (!victimName) {
    ledger.unexpected(`case ${name}: no leader of ${wanted} found before the kill`);
    continue;
  }
  const victim = cluster.node(victimName);
  const lost = led(victimName);
  const killedAt = Date.now();
  kills.push(killedAt);
  const fromRefusal = refusals.length;
  const fromEffect = effects.length;
  if (rolling) {
    await victim.terminate();
    await victim.restart();
  } else await victim.kill();
  // When each asset the victim led has a leader again: another node, or (elections on 2.9 take
  // 5 to 9 s) the victim itself once it is back. Meanwhile, when any asset was last seen without
  // a leader: the victim's return may start another election.
  const back: Record<string, number> = {};
  const leaderless: Record<string, number> = {};
  const recovered: Record<string, number> = {};
  let restarted = rolling;
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const now = await leaders();
      const at = Date.now();
      for (const k of Object.keys(now)) {
        if (!now[k] || (!restarted && now[k] === victimName)) leaderless[k] = at;
        else {
          if (lost.includes(k) && !(k in back)) back[k] = at;
          if (k in leaderless && !((recovered[k] ?? 0) > leaderless[k])) recovered[k] = at;
        }
      }
      await sleep(50);
    }
  })();
  while (lost.some((k) => !(k in back)) && Date.now() - killedAt < OUTAGE + 15_000) {
    if (!restarted && Date.now() - killedAt >= OUTAGE) {
      if (name !== "lost") await victim.restart();
      restarted = true;
    }
    await sleep(50);
  }
  if (!restarted) {
    await sleep(Math.max(0, killedAt + OUTAGE - Date.now()));
    if (name !== "lost") await victim.restart();
    restarted = true;
  }
  await sleep(SETTLE);
  watching = false;
  await watch;
  for (const k of lost) if (!(k in back)) ledger.unexpected(`case ${name}: ${k} had no leader 15 s after the outage`);
  const backAt = (keys: string[]) => Math.max(killedAt, ...keys.filter((k) => k in back).map((k) => back[k]));
  // The end of the last election of any of these, as polled (the victim's return may start another).
  const settledAt = (keys: string[]) => Math.max(backAt(keys), ...keys.map((k) => recovered[k] ?? 0));

  // Publishes: refused from the kill until when, against when their streams had leaders again.
  const refused = refusals.slice(fromRefusal);
  const lastRefused = refused.length ? refused[refused.length - 1].at : killedAt;
  // A publish in flight on a connection to the killed node is unanswered until its timeout.
  const refusedPast = refused.length ? lastRefused - Math.max(settledAt(FOR_PUBLISH), killedAt + TIMEOUT) : 0;
  if (refusedPast > AIM.refusedPastLeader) {
    ledger.unexpected(`case ${name}: publishes refused ${refusedPast} ms past the election`);
  }
  for (const { error } of refused.slice(0, 50)) {
    const text = String((error as Error)?.message);
    if (!/no leader|leader election|did not answer/.test(text)) {
      ledger.unexpected(`case ${name}: refused with "${text}"`);
    }
  }
  // Handlers: the longest pause after the kill, and when it ended against the new leaders.
  const runs = [killedAt, ...effects.slice(fromEffect)];
  let gap = 0;
  for (let i = 1; i < runs.length; i++) gap = Math.max(gap, runs[i] - runs[i - 1]);
  // The first run once the handlers' streams and consumers have leaders and publishes flow again.
  const ready = Math.max(settledAt(FOR_HANDLERS), lastRefused);
  const handlersPast = (runs.find((at) => at >= ready) ?? Date.now()) - ready;
  if (handlersPast > AIM.handlersPastLeader) {
    ledger.unexpected(`case ${name}: handlers resumed ${handlersPast} ms past the new leaders`);
  }
  // Delayed events due from the kill on: how late past their due time, or past the new leaders.
  const allBack = settledAt(Object.keys(assets));
  const due = delayed.filter((d) => d.due >= killedAt - 1_000 && d.due <= killedAt + OUTAGE);
  const late = due.map((d) => d.at - d.due);
  const latePast = due.map((d) => d.at - Math.max(d.due, allBack));
  const worstPast = Math.max(0, ...latePast);
  if (worstPast > AIM.delayedPastLeader) {
    ledger.unexpected(`case ${name}: a delayed event ran ${worstPast} ms past the new leaders`);
  }
  results.push({
    case: name,
    node: victimName,
    led: lost.join("+") || "none",
    elected_ms: lost.map((k) => `${k}:${k in back ? back[k] - killedAt : "none"}`).join(",") || "-",
    refused: refused.length,
    refused_ms: refused.length ? `${refused[0].at - killedAt}..${lastRefused - killedAt}` : "-",
    handler_gap_ms: gap,
    handlers_past_leader_ms: handlersPast,
    delayed_late_max_ms: Math.max(0, ...late),
    delayed_past_leader_ms: worstPast,
  });
  console.log(`  ${Object.entries(results[results.length - 1]).map(([k, v]) => `${k}=${v}`).join(" ")}`);
}

loading = false;
await producers;
const complete = await waitFor(() => ledger.complete(), 60_000, 100);
if (!complete) {
  console.log("  not every acknowledged publish was handled within 60 s of the end:");
  const missing = [...ackedAt].filter(([key]) => !ranAt.has(key)).slice(0, 10);
  for (const [key, at] of missing) {
    const after = kills.filter((k) => k <= at).map((k) => at - k);
    console.log(
      `    ${key}, acknowledged ${after.length ? `${Math.min(...after)} ms after a kill` : "before the kills"}`,
    );
  }
}
await bus.stop();
await observer.close();
await cluster.stop();
ledger.print(`cluster node SIGKILL or SIGTERM (${CASES.join(", ")})`, {
  refused: results.map((r) => r.refused).join(","),
  handler_gap_ms: results.map((r) => r.handler_gap_ms).join(","),
  delayed_past_leader_ms: results.map((r) => r.delayed_past_leader_ms).join(","),
}, {
  duplicated: "delivery is at least once: a handler whose result was being saved to the killed leader may run again",
});
