/**
 * Fault 7, inside workerd: handlers that throw in the middle of queue batches, scheduler objects
 * evicted again and again while their alarms are due, and an alarm set in the past. Every event
 * must be delivered, and no handler that succeeded may run again. Prints the fault suite's
 * RESULT line (lost / duplicated / unexpected).
 */
import assert from "node:assert/strict";
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { test } from "vitest";
import type { DurableObjectNamespaceLike, DurableObjectStateLike } from "../../adapters/cloudflare/mod.ts";
import { objectName } from "../../adapters/cloudflare/shard.ts";
import { Ledger, sleep, waitFor } from "../faults/ledger.ts";
import { setup } from "./harness.ts";

const IMMEDIATE = 40;
const DELAYED = 40;

test("fault 7: mid-batch throws, evictions while alarms are due, an alarm in the past", async () => {
  // Errors logged by objects while they are being aborted are expected here, and with
  // @cloudflare/vitest-pool-workers 0.15 a console call from an aborted object can leave the
  // pool hanging at teardown (workers-sdk#14180, fixed in 0.18.6): count them instead.
  const logged: unknown[] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => void logged.push(args);
  const prefix = `fault7-${Date.now()}`;
  const { bus } = setup({ prefix, maxQueueDelay: 0, schedulerShards: 2 }, {
    retry: { minDelay: 100, maxDelay: 100, jitter: 0, maxAttempts: 5 },
  });
  const ledger = new Ledger();
  bus.on("fault.job", { id: "first" }, (event) => ledger.effect("first", (event.body as { seq: number }).seq));
  bus.on("fault.job", { id: "second" }, (event) => {
    const { seq } = event.body as { seq: number };
    // Every other message of a batch throws on its first attempt: failures mid-batch.
    if (seq % 2 === 1 && event.attempt === 1) throw new Error(`mid-batch failure ${seq}`);
    ledger.effect("second", seq);
  });
  for (let seq = 0; seq < IMMEDIATE + DELAYED; seq++) {
    const after = seq < IMMEDIATE ? undefined : 300 + (seq % 10) * 100;
    const id = await bus.publish("fault.job", after === undefined ? {} : { after }, { seq });
    ledger.ack("first", seq, id);
    ledger.ack("second", seq, id);
  }
  // Evict every object again and again while the delayed events fall due.
  for (let i = 0; i < 8; i++) {
    await abortAllDurableObjects();
    await sleep(150);
  }
  // One scheduler's alarm is set in the past: it must fire at once and do no harm.
  const schedulers = env.EDGEBUS_SCHEDULER as DurableObjectNamespaceLike;
  const stub = schedulers.get(schedulers.idFromName(objectName(prefix, "scheduler", 0)) as never);
  await runInDurableObject(
    stub as never,
    (_instance: unknown, state: DurableObjectStateLike) => state.storage.setAlarm(Date.now() - 60_000),
  );
  if (!await waitFor(() => ledger.complete(), 20_000, 50)) ledger.unexpected("not every event completed within 20 s");
  await sleep(300); // room for a stray redelivery to show
  const dead = await bus.deadLetters.list();
  if (dead.items.length) ledger.unexpected(`${dead.items.length} dead letters`);
  const tally = ledger.print("workerd: mid-batch throws, evictions, an alarm in the past", {
    events: IMMEDIATE + DELAYED,
  });
  assert.deepEqual(tally, { lost: 0, duplicated: 0, unexpected: 0 });
  await bus.stop();
  console.error = consoleError;
  console.log(`${logged.length} errors logged by aborted objects`);
}, 60_000);
