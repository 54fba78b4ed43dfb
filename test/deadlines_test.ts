import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
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

  test("runs one after another share one timer instead of arming one each", () => {
    const timers = deadlines();
    const real = globalThis.setTimeout;
    let armed = 0;
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => (armed++, real(...args))) as typeof setTimeout;
    try {
      for (let i = 0; i < 1_000; i++) timers.add(5_000, () => {}).cancel();
    } finally {
      globalThis.setTimeout = real;
    }
    assert.ok(armed <= 1, `${armed} timers armed for 1,000 runs in turn`);
  });

  test("a deadline added after everything ended fires on its own time, not the idle timer's", async () => {
    const timers = deadlines();
    timers.add(40, () => {}).cancel(); // leaves a timer due in 40 ms, with nothing to wait for
    await sleep(20);
    const added = Date.now();
    const firedAfter = await new Promise<number>((resolve) => timers.add(40, () => resolve(Date.now() - added)));
    assert.ok(firedAfter >= 39, `fired ${firedAfter} ms after it was added (of 40)`);
  });

  test("a script whose handlers finished exits at once, not after the handler timeout", async () => {
    // The idle timer must not hold the process: run a script that publishes, awaits its handler
    // and ends without bus.stop(). Deno and Bun run it themselves; under Node (which cannot run
    // TypeScript here) Bun runs it.
    const g = globalThis as { Deno?: { execPath(): string } };
    const [command, args] = g.Deno
      ? [g.Deno.execPath(), ["run", "-A", "test/fixtures/exits_after_handler.ts"]]
      : [process.execPath.includes("bun") ? process.execPath : "node_modules/.bin/bun", [
        "test/fixtures/exits_after_handler.ts",
      ]];
    const started = Date.now();
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const took = Date.now() - started;
    assert.equal(code, 0);
    assert.match(out, /handled/);
    assert.ok(took < 10_000, `the script took ${took} ms to exit (handler timeout 20 s)`);
  }, 30_000);
});
