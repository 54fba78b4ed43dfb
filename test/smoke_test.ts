import assert from "node:assert/strict";
import { createBus } from "../mod.ts";
import { eventually, test } from "./lib/t.ts";

test("a published event reaches its handler", async () => {
  const bus = createBus();
  const seen: unknown[] = [];
  bus.on("user.joined", (event) => void seen.push(event.body));
  const id = await bus.publish("user.joined", { user_id: "2b6m" });
  await eventually(() => seen.length === 1);
  assert.deepEqual(seen, [{ user_id: "2b6m" }]);
  await eventually(async () => (await bus.get(id))?.status === "done");
  await bus.stop();
});
