import assert from "node:assert/strict";
import { jetstream } from "@nats-io/jetstream";
import { connect as tcpConnect } from "@nats-io/transport-node";
import { deriveNames, eventSubject, routeOf } from "../../adapters/nats/names.ts";
import { scheduleMove } from "../../adapters/nats/publish.ts";
import { createBus, type Envelope } from "../../mod.ts";
import { afterAll, describe, eventually, sleep, test } from "../lib/t.ts";
import { freshPrefix, testDriver } from "./helpers.ts";
import { startNatsServer } from "./server.ts";

const server = await startNatsServer();
afterAll(() => server.stop());

describe("nats delayed publish tried again", () => {
  test(
    "a delayed event published again after a timeout whose schedule write had landed runs once, when due",
    async () => {
      const prefix = freshPrefix();
      const runs: { at: number; due: number }[] = [];
      const bus = createBus({ driver: testDriver(server, { prefix }) });
      bus.on(
        "trial.ends",
        { id: "notify" },
        (event) => void runs.push({ at: Date.now(), due: event.time + event.delay }),
      );
      await bus.start();
      // The first try: its write to the schedule landed, but its answer was lost (a leader died),
      // so its first version was never written.
      const names = deriveNames(prefix, "default", {});
      const now = Date.now();
      const first: Envelope = {
        id: "trial-1",
        name: "trial.ends",
        body: { try: 1 },
        time: now,
        delay: 3_300,
        due: now + 3_300,
        attempt: 1,
        correlationId: "trial-1",
      };
      const nc = await tcpConnect({ servers: server.tcpUrl });
      const target = eventSubject(routeOf(names, first.name), first.id);
      await scheduleMove(jetstream(nc), names, first, target, first.id, 5_000);
      await nc.close();
      // The publisher tries again with the same id and a new delay: its schedule write is a
      // duplicate of the first (same message id) and dropped; its first version is written.
      await sleep(20);
      await bus.publish("trial.ends", { id: "trial-1", after: 4_000 }, { try: 2 });
      const due = Date.now() + 4_000;
      await eventually(() => runs.length > 0, 10_000);
      await sleep(1_000);
      assert.equal(runs.length, 1);
      assert.ok(runs[0].at >= runs[0].due, `ran ${runs[0].due - runs[0].at} ms early`);
      assert.ok(runs[0].due >= due - 100, "ran at the first try's due time, not the one published");
      await bus.stop();
    },
    20_000,
  );
});
