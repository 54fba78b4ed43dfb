/** The per-isolate side of the handler registry, on a fake shard 0 and an injected clock. */
import assert from "node:assert/strict";
import { test } from "vitest";
import type { HandlerInfo } from "../../mod.ts";
import { handlerRegistry } from "../../adapters/cloudflare/registry.ts";

function fakeShard() {
  let clock = 1_000_000;
  const calls: { method: string; args: unknown[] }[] = [];
  let down = false;
  let rows: HandlerInfo[] = [{ id: "user.deleted#1", pattern: "user.deleted" }];
  const registry = handlerRegistry({
    call: <T>(method: string, ...args: unknown[]) => {
      calls.push({ method, args });
      if (down) return Promise.reject(new Error("shard 0 is unavailable"));
      return Promise.resolve((method === "known" ? rows : undefined) as T);
    },
    now: () => clock,
    ttl: 86_400_000,
  });
  return {
    registry,
    calls,
    advance: (ms: number) => void (clock += ms),
    setDown: (value: boolean) => void (down = value),
    setRows: (value: HandlerInfo[]) => void (rows = value),
  };
}

test("known() asks shard 0 at most once per 30 seconds of the driver's clock", async () => {
  const shard = fakeShard();
  await Promise.all([shard.registry.known(), shard.registry.known()]);
  shard.advance(29_999);
  await shard.registry.known();
  assert.equal(shard.calls.length, 1);
  assert.deepEqual(shard.calls[0], { method: "known", args: [1_000_000 - 86_400_000] });
  shard.advance(1);
  shard.setRows([]);
  assert.deepEqual(await shard.registry.known(), []);
  assert.equal(shard.calls.length, 2);
});

test("known() keeps the last answer while shard 0 fails, and fails only when it never answered", async () => {
  const shard = fakeShard();
  shard.setDown(true);
  await assert.rejects(shard.registry.known(), /shard 0 is unavailable/);
  shard.setDown(false);
  const found = await shard.registry.known();
  shard.advance(30_000);
  shard.setDown(true);
  assert.deepEqual(await shard.registry.known(), found);
  assert.deepEqual(await shard.registry.known(), found, "asked again, not cached as a failure");
  assert.equal(shard.calls.length, 4);
});

test("keepAnnounced() announces once a minute, and at once when a handler was added", async () => {
  const shard = fakeShard();
  const handlers: HandlerInfo[] = [{ id: "user.joined#1", pattern: "user.joined" }];
  const announces = () => shard.calls.filter((c) => c.method === "announce").length;
  await shard.registry.keepAnnounced(() => handlers);
  shard.advance(59_999);
  await shard.registry.keepAnnounced(() => handlers);
  assert.equal(announces(), 1);
  handlers.push({ id: "user.deleted#1", pattern: "user.deleted" });
  await shard.registry.keepAnnounced(() => handlers);
  assert.equal(announces(), 2);
  shard.advance(60_000);
  await shard.registry.keepAnnounced(() => handlers);
  assert.equal(announces(), 3);
  assert.deepEqual(shard.calls.at(-1), { method: "announce", args: [handlers, 1_119_999, 86_400_000] });
});

test("keepAnnounced() never rejects: a failed announcement is tried again on the next batch", async () => {
  const shard = fakeShard();
  const logged: unknown[] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => void logged.push(args);
  try {
    shard.setDown(true);
    await shard.registry.keepAnnounced(() => [{ id: "a#1", pattern: "a" }]);
    shard.setDown(false);
    await shard.registry.keepAnnounced(() => [{ id: "a#1", pattern: "a" }]);
  } finally {
    console.error = consoleError;
  }
  assert.equal(logged.length, 1);
  assert.equal(shard.calls.filter((c) => c.method === "announce").length, 2);
});
