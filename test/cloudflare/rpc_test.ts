/**
 * The driver calls the objects through Workers RPC; the objects still answer JSON over `fetch`,
 * which a driver of an older release uses during a gradual deployment.
 */
import assert from "node:assert/strict";
import { env } from "cloudflare:workers";
import { test } from "vitest";
import { createEnvelope, idGenerator, initialRecord } from "../../driver/mod.ts";
import { type DurableObjectNamespaceLike, EdgebusStore, ObjectBase } from "../../adapters/cloudflare/mod.ts";
import { callObject, NO_RPC } from "../../adapters/cloudflare/rpc.ts";
import { freshPrefix } from "./harness.ts";

const newId = idGenerator();
const stores = env.EDGEBUS_STORE as DurableObjectNamespaceLike;

test("inside workerd the objects extend DurableObject from cloudflare:workers", async () => {
  const specifier = "cloudflare:workers";
  const { DurableObject } = await import(specifier) as { DurableObject: unknown };
  assert.equal(ObjectBase, DurableObject);
  assert.ok(Object.getPrototypeOf(EdgebusStore) === DurableObject);
});

test("a store object answers the same calls through RPC and through JSON over fetch", async () => {
  const name = freshPrefix("rpc");
  const at = Date.now();
  const record = initialRecord(createEnvelope({ name: "rpc.ping", body: { n: 1 } }, at, newId), at);
  const stub = stores.get(stores.idFromName(name) as never) as unknown as {
    create(records: unknown[], since: number, retention: number): Promise<boolean[]>;
    get(id: string): Promise<unknown>;
  };
  assert.deepEqual(await stub.create([record], at - 1_000, 60_000), [true]);
  const json = JSON.parse(JSON.stringify(record));
  assert.deepEqual(await stub.get(record.id), json);
  // The JSON-over-fetch path an older driver takes.
  const response = await (stub as unknown as { fetch: typeof fetch }).fetch("https://edgebus.internal/get", {
    method: "POST",
    body: JSON.stringify([record.id]),
  });
  assert.deepEqual(((await response.json()) as { value: unknown }).value, json);
  assert.deepEqual(await callObject(stores, name, "create", [[record], at - 1_000, 60_000]), [false]);
});

test("a stub that speaks only fetch is called with JSON over fetch", async () => {
  const name = freshPrefix("fetch-only");
  const real = stores.get(stores.idFromName(name) as never);
  const fetchOnly = {
    idFromName: (n: string) => stores.idFromName(n),
    get: (id: never) => ({ fetch: (input: string, init?: RequestInit) => stores.get(id).fetch(input, init) }),
  };
  assert.equal(await callObject(fetchOnly, name, "get", ["missing"]), undefined);
  assert.deepEqual(await callObject(fetchOnly, name, "known", [0]), []);
  assert.ok(real);
});

test("a failure inside the object is an unavailable EdgebusError naming the object and method", async () => {
  const name = freshPrefix("rpc-fail");
  await assert.rejects(
    callObject(stores, name, "putBodies", [null]),
    (error: unknown) =>
      (error as { code?: string }).code === "unavailable" &&
      new RegExp(`"${name}" failed in putBodies`).test(String(error)),
  );
});

test("the driver falls back to fetch on workerd's answers for an object without RPC or without the method", () => {
  // workerd 1.20260426's wording (the test pool wraps objects and words them its own way, and its
  // errors surface as unhandled rejections, so they are matched here as text).
  const older = "The receiving Durable Object does not support RPC, because its class was not declared with " +
    "`extends DurableObject`. In order to enable RPC, make sure your class that implements Durable Objects " +
    "extends the `DurableObject` class.";
  assert.match(older, NO_RPC);
  assert.match('The RPC receiver does not implement the method "combined".', NO_RPC);
  assert.match("Expected EdgebusStore exported by worker.ts be a subclass of `DurableObject` for RPC", NO_RPC);
  assert.doesNotMatch("rows is not iterable", NO_RPC);
});
