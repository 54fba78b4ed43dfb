import assert from "node:assert/strict";
import { test } from "vitest";
import { eventually } from "../lib/t.ts";
import { settled, setup } from "./harness.ts";

const large = (): { data: string; list: number[] } => ({
  data: "é".repeat(90_000),
  list: Array.from({ length: 5_000 }, (_, i) => i),
});

test("a body over 128 KB is stored, restored for the handler, and deleted once the event is done", async () => {
  const { driver, bus } = setup();
  const seen: unknown[] = [];
  bus.on("blob.stored", (event) => void seen.push(event.body));
  const body = large();
  const id = await bus.publish("blob.stored", { after: 1_000 }, body);
  assert.ok(new TextEncoder().encode(JSON.stringify(body)).length > 128_000);
  assert.ok(await driver.store.getBody(id), "the envelope is stored beside the records");
  await settled(bus, id, "done");
  assert.deepEqual(seen, [body]);
  await eventually(async () => (await driver.store.getBody(id)) === undefined);
});

test("a large body survives retries and the scheduler", async () => {
  const { driver, bus } = setup({ maxQueueDelay: 0 });
  const seen: unknown[] = [];
  bus.on("blob.stored", (event) => {
    seen.push(event.body);
    if (event.attempt === 1) throw new Error("try again");
  });
  const body = large();
  const id = await bus.publish("blob.stored", { after: 200 }, body);
  await settled(bus, id, "done");
  assert.equal(seen.length, 2);
  assert.deepEqual(seen[1], body);
  await eventually(async () => (await driver.store.getBody(id)) === undefined);
});
