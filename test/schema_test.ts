import assert from "node:assert/strict";
import { type } from "arktype";
import * as v from "valibot";
import { z } from "zod";
import { createBus, type StandardSchemaV1, ValidationError } from "../mod.ts";
import { describe, eventually, test } from "./lib/t.ts";

const schemas: [string, StandardSchemaV1][] = [
  ["zod", z.object({ email: z.string().email(), plan: z.string().default("free") })],
  ["valibot", v.object({ email: v.pipe(v.string(), v.email()), plan: v.optional(v.string(), "free") })],
  ["arktype", type({ email: "string.email", plan: "string = 'free'" })],
];

describe("per-event schemas (Standard Schema)", () => {
  for (const [vendor, schema] of schemas) {
    test(`${vendor}: a valid body is published, with the schema's defaults applied`, async () => {
      const bus = createBus({ schemas: { "user.joined": schema } });
      const seen: unknown[] = [];
      bus.on("user.joined", (e) => void seen.push(e.body));
      await bus.publish("user.joined", { email: "a@example.com" });
      await eventually(() => seen.length === 1);
      assert.deepEqual(seen[0], { email: "a@example.com", plan: "free" });
      await bus.stop();
    });

    test(`${vendor}: an invalid body is refused with its issues, and nothing is stored`, async () => {
      const bus = createBus({ schemas: { "user.joined": schema } });
      await assert.rejects(bus.publish("user.joined", { email: 42 }), (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(error.code, "invalid_body");
        assert.ok(error.issues.length >= 1);
        assert.deepEqual(error.issues[0].path, ["email"]);
        assert.match(error.message, /^Cannot publish "user.joined": the body does not match its schema/);
        return true;
      });
      assert.deepEqual((await bus.list()).items, []);
      await bus.publish("other.event", { email: 42 }); // names without a schema are not checked
      await bus.stop();
    });
  }
});
