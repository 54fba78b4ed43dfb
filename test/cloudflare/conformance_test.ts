import { runDriverConformance } from "../conformance/mod.ts";
import { conformanceDriver } from "./harness.ts";

// Delays below a second still wait a whole second on Queues, and each retry is a new message.
runDriverConformance({ name: "cloudflare (Queues)", create: () => conformanceDriver(), patience: 10_000 });
runDriverConformance({
  name: "cloudflare (scheduler for every delay)",
  create: () => conformanceDriver({ maxQueueDelay: 0 }),
  patience: 10_000,
});
