import { runDriverConformance } from "../../testing/mod.ts";
import { test } from "../lib/t.ts";
import { conformanceDriver } from "./harness.ts";

// Delays below a second still wait a whole second on Queues, and each retry is a new message.
runDriverConformance({
  name: "cloudflare (Queues)",
  create: () => conformanceDriver(),
  test,
  patience: 10_000,
});
runDriverConformance({
  name: "cloudflare (scheduler for every delay)",
  create: () => conformanceDriver({ maxQueueDelay: 0 }),
  test,
  patience: 10_000,
});
