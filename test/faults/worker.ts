/**
 * A worker process for the fault suite: it consumes from NATS and appends one line per handler
 * effect to a ledger file, so that the parent can SIGKILL it mid-handler and read what happened.
 * Settings come from the environment: NATS_URL, PREFIX, LEDGER, SLOW_MS.
 */
import { appendFileSync } from "node:fs";
import process from "node:process";
import { createBus } from "../../mod.ts";
import { natsDriver } from "../../adapters/nats/mod.ts";

const env = process.env;
const ledger = env.LEDGER!;
const slow = Number(env.SLOW_MS ?? 1_000);
const write = (line: string): void => appendFileSync(ledger, `${line}\n`);

const bus = createBus({
  driver: natsDriver({
    servers: env.NATS_URL!,
    prefix: env.PREFIX!,
    group: "workers",
    ackWait: 3_000,
    tick: 50,
    leaseTtl: 1_500,
    timeout: 2_000,
  }),
  retry: { minDelay: 100, maxDelay: 1_000, maxAttempts: 50 },
});
bus.on("fault.twostep", { id: "first", timeout: 30_000 }, (event) => {
  write(`first ${(event.body as { seq: number }).seq} ${process.pid}`);
});
bus.on("fault.twostep", { id: "second", timeout: 30_000 }, async (event) => {
  await new Promise((resolve) => setTimeout(resolve, slow));
  write(`second ${(event.body as { seq: number }).seq} ${process.pid}`);
});
bus.on("fault.delayed", (event) => {
  const due = event.time + event.delay;
  write(`delayed ${(event.body as { seq: number }).seq} ${due} ${Date.now()} ${process.pid}`);
});
await bus.start();
write(`ready ${process.pid}`);
process.on("SIGTERM", async () => {
  await bus.stop({ gracePeriod: 1_000 });
  process.exit(0);
});
