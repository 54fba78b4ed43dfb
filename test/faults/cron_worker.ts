/**
 * A worker process for the schedules fault case: it declares the same schedules as every other
 * worker at start (declaring again changes nothing), takes part in scheduling, and appends one
 * line per handler run to the ledger: `run <schedule> <event id> <published at> <start> <end> <pid>`.
 * Settings: NATS_URL, PREFIX, LEDGER; SLOW_MS (2500), how long the `c-skip` handler works.
 */
import { appendFileSync } from "node:fs";
import process from "node:process";
import { createBus } from "../../mod.ts";
import { natsDriver } from "../../adapters/nats/mod.ts";

const env = process.env;
const write = (line: string): void => appendFileSync(env.LEDGER!, `${line}\n`);
const slow = Number(env.SLOW_MS ?? 2_500);
const bus = createBus({
  driver: natsDriver({ servers: env.NATS_URL!, prefix: env.PREFIX!, ackWait: 3_000, timeout: 2_000 }),
  retry: { minDelay: 100, maxDelay: 1_000, maxAttempts: 50 },
});
const EVERY_SECOND = "* * * * * *";
for (const policy of ["all", "latest", "none"] as const) {
  bus.on(`cron.${policy}`, { id: `run-${policy}` }, (event) => {
    const at = Date.now();
    write(`run c-${policy} ${event.id} ${event.time} ${at} ${at} ${process.pid}`);
  });
  await bus.schedule(`c-${policy}`, EVERY_SECOND, `cron.${policy}`, { policy }, { catchUp: policy });
}
bus.on("cron.skip", { id: "run-skip", timeout: 30_000 }, async (event) => {
  const start = Date.now();
  await new Promise((resolve) => setTimeout(resolve, slow));
  write(`run c-skip ${event.id} ${event.time} ${start} ${Date.now()} ${process.pid}`);
});
await bus.schedule("c-skip", EVERY_SECOND, "cron.skip", null, { overlap: "skip" });
await bus.start();
write(`ready ${process.pid}`);
process.on("SIGTERM", async () => {
  await bus.stop({ gracePeriod: 3_000 });
  process.exit(0);
});
