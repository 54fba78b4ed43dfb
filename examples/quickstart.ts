/**
 * A short tour of edgebus with the in-process memory driver: publish now, publish later, a
 * failing handler retried and then dead-lettered, and a replay.
 *
 * Run it with `npm run quickstart` (or `deno run examples/quickstart.ts`, `bun examples/quickstart.ts`).
 */
import { createBus, type EventRecord } from "../mod.ts";

const started = Date.now();
const log = (line: string): void => console.log(`[+${String(Date.now() - started).padStart(5)} ms] ${line}`);
const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// A quick retry policy so the tour takes seconds: 3 attempts, 300 ms apart.
const bus = createBus({ retry: { maxAttempts: 3, minDelay: 300, maxDelay: 300, jitter: 0 } });

bus.on("user.joined", { id: "send-welcome" }, async (event, ctx) => {
  const { email } = event.body as { email: string };
  log(`send-welcome: welcome mail to ${email} (attempt ${event.attempt})`);
  await ctx.publish("crm.sync", { email });
});

let mailServerUp = false;
bus.on("user.joined.followup", { id: "send-tips" }, (event) => {
  const { email } = event.body as { email: string };
  if (!mailServerUp) throw new Error("mail server unreachable");
  log(`send-tips: tips mail to ${email}, ${event.delay} ms after signing up`);
});

bus.on("crm.sync", (event) => {
  log(`crm.sync: caused by ${event.causationId}, correlation ${event.correlationId}`);
});

const show = (r: EventRecord | undefined): string =>
  r
    ? `${r.name} is ${r.status}; ` +
      Object.entries(r.handlers).map(([id, h]) =>
        `${id}: ${h.status} x${h.attempts}${h.error ? ` (${h.error.message})` : ""}`
      )
        .join(", ")
    : "unknown";

log("1. publish now");
const joined = await bus.publish("user.joined", { email: "ada@example.com" });
await wait(50);
log(`   record: ${show(await bus.get(joined))}`);

log("2. publish later: a follow-up in 1 second, whose handler fails (the mail server is down)");
const followup = await bus.publish("user.joined.followup", { after: 1_000 }, { email: "ada@example.com" });
log(`   record: ${show(await bus.get(followup))}`);

await wait(1_900);
log("3. after three attempts it is a dead letter:");
for (const dead of (await bus.deadLetters.list()).items) log(`   ${dead.id}: ${show(dead)}`);

log("4. the mail server is back: replay the dead letter");
mailServerUp = true;
await bus.deadLetters.replay(followup);
await wait(50);
log(`   record: ${show(await bus.get(followup))}`);

await bus.stop();
log("stopped");
