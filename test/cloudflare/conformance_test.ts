import { runDriverConformance } from "../../testing/mod.ts";
import { test } from "../lib/t.ts";
import { conformanceDriver } from "./harness.ts";

// The scheduler objects' alarms (which fire schedules) run on the platform clock, which a test cannot move.
const clock = {
  "catchUp decides on ticks the clock jumped over: all of them, the latest, or none":
    "the scheduler objects' alarms run on the platform clock; test/cloudflare/schedules_test.ts stops the objects instead",
};

// Delays below a second still wait a whole second on Queues, and each retry is a new message.
runDriverConformance({
  name: "cloudflare (Queues)",
  create: () => conformanceDriver(),
  test,
  patience: 10_000,
  skip: clock,
});
runDriverConformance({
  name: "cloudflare (scheduler for every delay)",
  create: () => conformanceDriver({ maxQueueDelay: 0 }),
  test,
  patience: 10_000,
  skip: clock,
});
