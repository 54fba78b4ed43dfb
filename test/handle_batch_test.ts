import assert from "node:assert/strict";
import { createBus, type Envelope } from "../mod.ts";
import { describe, sleep, test } from "./lib/t.ts";

function envelope(id: string, name: string, attempt = 1): Envelope {
  const time = Date.now();
  return { id, name, body: { id }, time, delay: 0, due: time, attempt, correlationId: id };
}

describe("handleBatch()", () => {
  test("runs at most batchConcurrency messages at once", async () => {
    const bus = createBus({ batchConcurrency: 3 });
    let running = 0;
    let peak = 0;
    bus.on("job", async () => {
      peak = Math.max(peak, ++running);
      await sleep(15);
      running--;
    });
    const messages = Array.from({ length: 12 }, (_, i) => ({ id: `m${i}`, body: envelope(`e${i}`, "job") }));
    const { failures, invalid } = await bus.handleBatch(messages);
    assert.deepEqual([failures, invalid], [[], []]);
    assert.equal(peak, 3);
    await bus.stop();
  });

  test("a redelivered message counts the transport's attempts into event.attempt", async () => {
    const bus = createBus();
    const attempts: number[] = [];
    bus.on("job", (event) => void attempts.push(event.attempt));
    await bus.handleBatch([{ id: "m1", body: JSON.stringify(envelope("e1", "job")), attempts: 3 }]);
    assert.deepEqual(attempts, [3]);
    await bus.stop();
  });

  test("a message whose record is already done is acknowledged without running again", async () => {
    const bus = createBus();
    let runs = 0;
    bus.on("job", () => void runs++);
    const message = { id: "m1", body: envelope("e1", "job") };
    await bus.handleBatch([message]);
    const { failures } = await bus.handleBatch([message]);
    assert.deepEqual([runs, failures], [1, []]);
    await bus.stop();
  });
});
