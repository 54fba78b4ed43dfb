import { runDriverConformance } from "../../testing/mod.ts";
import { test } from "../lib/t.ts";
import { conformanceDriver } from "./harness.ts";

const notYet = {
  "schedule() publishes each tick once, as <id>:<tick time>, never before its time":
    "schedules are not on this driver yet",
  "schedule() with the same spec changes nothing, with another replaces it; list, get and delete":
    "schedules are not on this driver yet",
  "schedule() refuses a bad expression, zone, id, policy, name or body, typed, and stores nothing":
    "schedules are not on this driver yet",
  "pause() stops ticks, resume() publishes from then on without catching up, overlap skip waits for the running tick":
    "schedules are not on this driver yet",
};

// Delays below a second still wait a whole second on Queues, and each retry is a new message.
runDriverConformance({
  name: "cloudflare (Queues)",
  create: () => conformanceDriver(),
  test,
  patience: 10_000,
  skip: notYet,
});
runDriverConformance({
  name: "cloudflare (scheduler for every delay)",
  create: () => conformanceDriver({ maxQueueDelay: 0 }),
  test,
  patience: 10_000,
  skip: notYet,
});
