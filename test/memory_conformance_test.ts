import { memoryDriver } from "../mod.ts";
import { runDriverConformance } from "../testing/mod.ts";
import { test } from "./lib/t.ts";

runDriverConformance({
  name: "memory",
  create: () => memoryDriver(),
  createWithClock: (now) => memoryDriver({ now }),
  test,
});
