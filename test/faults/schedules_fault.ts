/**
 * Schedules under faults: three workers declare the same every-second schedules (catch-up all,
 * latest and none, and one whose 2.5 s handler overlaps the next ticks unless skipped) and all
 * take part in scheduling. Every worker is SIGKILLed at once for longer than the 3 s after which
 * a tick counts as missed, then three start again. Checked from the handlers' ledger: each tick
 * ran once however many processes competed to publish it (duplicated); no tick is missing outside
 * the outage, and across it `all` has every tick, `latest` at most one of the missed ones, `none`
 * none (lost / unexpected); the skip schedule's runs never overlap.
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { startNatsServer } from "../nats/server.ts";
import { Ledger, SHORT, sleep, waitFor } from "./ledger.ts";
import { killWorker, ledgerFile, lines, stopWorker } from "./processes.ts";

const PREFIX = "cronfault";
const BEFORE_MS = SHORT ? 4_000 : 10_000;
const DOWN_MS = SHORT ? 8_000 : 14_000;
const AFTER_MS = SHORT ? 5_000 : 10_000;
const MISSED_AFTER = 3_000;
const server = await startNatsServer();
const file = ledgerFile();
const env = { ...process.env, NATS_URL: server.wsUrl, PREFIX, LEDGER: file };
const ledger = new Ledger();

async function startWorker(): Promise<ChildProcess> {
  const bun = process.execPath.includes("bun") ? process.execPath : "node_modules/.bin/bun";
  const child = spawn(bun, ["test/faults/cron_worker.ts"], { env, stdio: ["ignore", "inherit", "inherit"] });
  process.once("exit", () => child.kill("SIGKILL"));
  const ready = await waitFor(() => lines(file).some(([w, pid]) => w === "ready" && Number(pid) === child.pid), 15_000);
  if (!ready) throw new Error(`worker ${child.pid} did not start within 15 s`);
  return child;
}
const startThree = () => Promise.all([startWorker(), startWorker(), startWorker()]);

let workers = await startThree();
const startedAt = Date.now();
await sleep(BEFORE_MS);
const killedAt = Date.now();
await Promise.all(workers.map(killWorker));
await sleep(DOWN_MS);
const restartedAt = Date.now();
workers = await startThree();
await sleep(AFTER_MS);
const stoppedAt = Date.now();
await Promise.all(workers.map(stopWorker));
await server.stop();

interface Run {
  readonly schedule: string;
  readonly id: string;
  readonly tick: number;
  readonly published: number;
  readonly start: number;
  readonly end: number;
}
const tickOf = (id: string): number =>
  Date.parse(
    id.slice(id.lastIndexOf(":") + 1).replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"),
  );
const runs: Run[] = lines(file).filter(([w]) => w === "run").map(([, schedule, id, published, start, end]) => ({
  schedule,
  id,
  tick: tickOf(id),
  published: Number(published),
  start: Number(start),
  end: Number(end),
}));
const of = (schedule: string) => runs.filter((r) => r.schedule === schedule);
// The first round after the restart: where the missed ticks were decided.
const firstFire = Math.min(...runs.filter((r) => r.published >= restartedAt).map((r) => r.published));
const second = (t: number) => Math.floor(t / 1_000) * 1_000;
const ticksIn = (from: number, to: number) => {
  const out: number[] = [];
  for (let t = second(from) + 1_000; t < to; t += 1_000) out.push(t);
  return out;
};
// Ticks of the outage that were surely missed (more than MISSED_AFTER late at the first round),
// with a second of margin on each side; and ticks surely on time (before the kill, after the restart).
// Ticks up to 2 s after the kill may have been published ahead of their time before it.
const missed = ticksIn(killedAt + 3_000, firstFire - MISSED_AFTER - 1_000);
const onTime = [...ticksIn(startedAt + 2_000, killedAt - 1_000), ...ticksIn(firstFire, stoppedAt - 1_500)];
const seenBy = new Map<string, Map<number, number>>();
for (const r of runs) {
  const ticks = seenBy.get(r.schedule) ?? new Map<number, number>();
  ticks.set(r.tick, (ticks.get(r.tick) ?? 0) + 1);
  seenBy.set(r.schedule, ticks);
  ledger.effect(r.schedule, r.tick);
}
const counts: Record<string, number> = {};
for (const policy of ["all", "latest", "none"]) {
  const schedule = `c-${policy}`;
  const seen = seenBy.get(schedule) ?? new Map();
  for (const t of onTime) ledger.ack(schedule, t, `${schedule}:${t}`);
  const caughtUp = missed.filter((t) => seen.has(t)).length;
  counts[`${policy}_missed_published`] = caughtUp;
  if (policy === "all") { for (const t of missed) ledger.ack(schedule, t, `${schedule}:${t}`); }
  if (policy === "latest" && caughtUp > 1) ledger.unexpected(`latest caught up ${caughtUp} missed ticks`);
  if (policy === "none" && caughtUp > 0) ledger.unexpected(`none caught up ${caughtUp} missed ticks`);
  for (const t of seen.keys()) {
    if (t <= startedAt - 10_000 || t > stoppedAt) ledger.unexpected(`${schedule} ran a tick at ${t}, outside the run`);
  }
}
// Every tick the ledger acknowledged but that never ran counts as lost; a tick with no
// acknowledgement that ran (the outage's ticks for latest) is fine.
const skip = of("c-skip").sort((a, b) => a.start - b.start);
let overlaps = 0;
for (let i = 1; i < skip.length; i++) if (skip[i].start < skip[i - 1].end - 50) overlaps++;
if (overlaps > 0) ledger.unexpected(`${overlaps} runs of the skip schedule overlapped the one before`);
if (skip.length < 2) ledger.unexpected(`the skip schedule ran ${skip.length} times`);
// How late on-time ticks ran (ticks are published ahead on NATS, due at their time).
const late = runs.filter((r) => onTime.includes(r.tick)).map((r) => r.start - r.tick).sort((a, b) => a - b);
const early = runs.filter((r) => r.start < r.tick);
if (early.length > 0) ledger.unexpected(`${early.length} ticks ran before their time, first ${early[0].id}`);
ledger.print("schedules: three processes, all SIGKILLed for several ticks", {
  ticks: runs.length,
  missed_window: missed.length,
  ...counts,
  skip_runs: skip.length,
  overlaps,
  run_late_p50_ms: late[Math.floor(late.length / 2)] ?? -1,
  run_late_p99_ms: late[Math.min(late.length - 1, Math.floor(late.length * 0.99))] ?? -1,
});
