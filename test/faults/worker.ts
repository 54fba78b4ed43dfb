/**
 * A worker process for the fault suite: it consumes from NATS and appends one line per handler
 * effect to a ledger file, so that the parent can SIGKILL it mid-handler and read what happened.
 * Settings come from the environment:
 * - NATS_URL, PREFIX, LEDGER: where to connect and where to write;
 * - SLOW_MS: how long the `second` handler works (1000);
 * - HANDLERS: which handler sets to register, comma-separated (`twostep,delayed`): `twostep`
 *   (fault.twostep: `first`, `second`), `delayed` (fault.delayed), `welcome` (user.joined) and
 *   `cleanup` (user.deleted), the last two working WORK_MS (20) before they write;
 * - VERSION: a label written with `welcome` and `cleanup` lines (`0`), for rolling deploys;
 * - ACK_WAIT (3000): the consumers' ack wait, ms;
 * - SCHEDULER (`1`; `0` for none), LEASE_TTL (1500) and TICK (50): the scheduler's part;
 * - LEASE_LOG=1: writes `owner <pid> <lease owner name>` once, when it first writes the lease.
 */
import { appendFileSync } from "node:fs";
import process from "node:process";
import { createBus } from "../../mod.ts";
import { natsDriver } from "../../adapters/nats/mod.ts";
import { ownerTellingConnect } from "./lease_owner.ts";

const env = process.env;
const ledger = env.LEDGER!;
const slow = Number(env.SLOW_MS ?? 1_000);
const work = Number(env.WORK_MS ?? 20);
const version = env.VERSION ?? "0";
const sets = new Set((env.HANDLERS ?? "twostep,delayed").split(",").filter(Boolean));
const write = (line: string): void => appendFileSync(ledger, `${line}\n`);
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const seqOf = (body: unknown): number => (body as { seq: number }).seq;

const bus = createBus({
  driver: natsDriver({
    servers: env.NATS_URL!,
    prefix: env.PREFIX!,
    group: "workers",
    ackWait: Number(env.ACK_WAIT ?? 3_000),
    tick: Number(env.TICK ?? 50),
    leaseTtl: Number(env.LEASE_TTL ?? 1_500),
    timeout: 2_000,
    scheduler: env.SCHEDULER !== "0",
    connect: env.LEASE_LOG === "1"
      ? ownerTellingConnect(env.PREFIX!, (owner) => write(`owner ${process.pid} ${owner}`))
      : undefined,
  }),
  retry: { minDelay: 100, maxDelay: 1_000, maxAttempts: 50 },
});
if (sets.has("twostep")) {
  bus.on("fault.twostep", { id: "first", timeout: 30_000 }, (event) => {
    write(`first ${seqOf(event.body)} ${process.pid}`);
  });
  bus.on("fault.twostep", { id: "second", timeout: 30_000 }, async (event) => {
    await pause(slow);
    write(`second ${seqOf(event.body)} ${process.pid}`);
  });
}
if (sets.has("delayed")) {
  bus.on("fault.delayed", (event) => {
    const due = event.time + event.delay;
    write(`delayed ${seqOf(event.body)} ${due} ${Date.now()} ${process.pid}`);
  });
}
if (sets.has("welcome")) {
  bus.on("user.joined", { id: "welcome" }, async (event) => {
    await pause(work);
    write(`welcome ${seqOf(event.body)} ${process.pid} ${version}`);
  });
}
if (sets.has("cleanup")) {
  bus.on("user.deleted", { id: "cleanup" }, async (event) => {
    await pause(work);
    write(`cleanup ${seqOf(event.body)} ${process.pid} ${version}`);
  });
}
await bus.start();
write(`ready ${process.pid}`);
process.on("SIGTERM", async () => {
  await bus.stop({ gracePeriod: 1_000 });
  process.exit(0);
});
