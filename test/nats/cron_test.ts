import assert from "node:assert/strict";
import { createBus } from "../../mod.ts";
import { afterAll, describe, eventually, sleep, test } from "../lib/t.ts";
import { freshPrefix, testDriver } from "./helpers.ts";
import { startNatsServer } from "./server.ts";

const server = await startNatsServer();
afterAll(() => server.stop());

describe("nats schedules", () => {
  test("a schedule survives a restart of nats-server, and another process finds it", async () => {
    const prefix = freshPrefix();
    const bus = createBus({ driver: testDriver(server, { prefix, storage: "file", timeout: 1_000 }) });
    const ticks: string[] = [];
    bus.on("cron.tick", (event) => void ticks.push(event.id));
    await bus.start();
    await bus.schedule("every-second", "* * * * * *", "cron.tick", { n: 1 });
    await eventually(() => ticks.length >= 2, 5_000);
    await server.kill();
    await sleep(1_500);
    await server.restart();
    const before = ticks.length;
    await eventually(() => ticks.length >= before + 2, 15_000);
    assert.equal(new Set(ticks).size, ticks.length, "a tick ran twice");
    const other = createBus({ driver: testDriver(server, { prefix, storage: "file", scheduler: false }) });
    const found = await other.schedules.get("every-second");
    assert.equal(found?.cron, "* * * * * *");
    assert.deepEqual((await other.schedules.list()).items.map((s) => s.id), ["every-second"]);
    assert.equal((await other.schedule("every-second", "* * * * * *", "cron.tick", { n: 1 })).change, "unchanged");
    await other.stop();
    await bus.stop();
  }, 40_000);

  test(
    "a standby takes over firing when the holder stops; a deletion from another process stops the ticks",
    async () => {
      const prefix = freshPrefix();
      const ticks: string[] = [];
      const a = createBus({ driver: testDriver(server, { prefix, leaseTtl: 500 }) });
      const b = createBus({ driver: testDriver(server, { prefix, leaseTtl: 500 }) });
      for (const bus of [a, b]) bus.on("cron.tick", (event) => void ticks.push(event.id));
      await Promise.all([a.start(), b.start()]);
      await a.schedule("every-second", "* * * * * *", "cron.tick");
      await eventually(() => ticks.length >= 1, 5_000);
      await a.stop(); // whichever held the lease, b goes on alone
      const before = ticks.length;
      await eventually(() => ticks.length >= before + 2, 10_000);
      assert.equal(await b.schedules.delete("every-second"), true);
      await sleep(300);
      const after = ticks.length;
      await sleep(1_500);
      assert.equal(ticks.length, after, "ticks after the deletion");
      assert.equal(new Set(ticks).size, ticks.length, "a tick ran twice");
      await b.stop();
    },
    30_000,
  );
});
