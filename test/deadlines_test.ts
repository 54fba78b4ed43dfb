import assert from "node:assert/strict";
import { deadlines } from "../src/deadlines.ts";
import { describe, sleep, test } from "./lib/t.ts";

// Handler timeouts run on one shared timer; these cases pin down its order and its clean-up.
describe("deadlines()", () => {
  test("fires each deadline once, in time order across lengths, and never a cancelled one", async () => {
    const timers = deadlines();
    const fired: string[] = [];
    const started = Date.now();
    const at: Record<string, number> = {};
    const add = (name: string, ms: number) => timers.add(ms, () => (fired.push(name), at[name] = Date.now() - started));
    add("a60", 60);
    const cancelled = add("b20", 20);
    add("c40", 40);
    add("d20", 20);
    add("e60", 60);
    cancelled.cancel();
    cancelled.cancel(); // twice is harmless
    await sleep(150);
    assert.deepEqual(fired, ["d20", "c40", "a60", "e60"]);
    for (const [name, ms] of Object.entries(at)) {
      assert.ok(ms >= Number(name.slice(1)) - 1, `${name} not early (${ms} ms)`);
    }
  });

  test("entries cancelled out of order are skipped; a cancelled front lets the next one fire", async () => {
    const timers = deadlines();
    const fired: number[] = [];
    const handles = Array.from({ length: 50 }, (_, i) => timers.add(30, () => fired.push(i)));
    for (let i = 0; i < 50; i += 2) handles[i].cancel(); // the front first, and every other
    await sleep(100);
    assert.deepEqual(fired, Array.from({ length: 25 }, (_, i) => 2 * i + 1));
  });

  test("cancelling everything stops the timer, so nothing is left to keep a process alive", async () => {
    const timers = deadlines();
    let fired = 0;
    const handles = Array.from({ length: 10 }, () => timers.add(20, () => fired++));
    for (const h of handles) h.cancel();
    await sleep(60);
    assert.equal(fired, 0);
    // A fresh deadline after everything was cancelled still fires.
    await new Promise<void>((resolve) => timers.add(5, resolve));
  });
});
