// `npm run bench`: runs every benchmark under bench/, prints one table (figure, ours, raw peer,
// ratio) and writes it to bench/RESULTS.md with a description of the machine.
// Each benchmark prints markdown table rows ("| figure | ours | peer | ratio |"); this collects them.
import { spawnSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { existsSync, writeFileSync } from "node:fs";
import { env } from "./env.mjs";

const deno = "node_modules/.bin/deno";
const bun = "node_modules/.bin/bun";

/** [title, command, args] for every benchmark, in the order they run. */
const benches = [
  ["memory driver (Deno)", deno, ["run", "-A", "--v8-flags=--expose-gc", "bench/memory_bench.ts"]],
  ["memory driver (Bun)", bun, ["bench/memory_bench.ts"]],
  ["HTTP ingest (Deno)", deno, ["run", "-A", "bench/http_ingest.ts"]],
  ["HTTP ingest (Bun)", bun, ["bench/http_ingest.ts"]],
  ["Cloudflare on wrangler dev (Deno)", deno, ["run", "-A", "bench/cloudflare_bench.ts"]],
  ["NATS publish (Bun, WebSocket)", bun, ["bench/nats_publish.ts"]],
  ["NATS publish (Deno, TCP)", deno, ["run", "-A", "bench/nats_publish.ts", "--tcp"]],
  ["NATS publish (Node, TCP)", process.execPath, ["bench/node_run.mjs", "bench/nats_publish.ts"]],
  ["NATS publish→done (Bun, WebSocket)", bun, ["bench/nats_e2e.ts"]],
  ["NATS publish→done (Deno, TCP)", deno, ["run", "-A", "bench/nats_e2e.ts", "--tcp"]],
  ["NATS delayed (Bun)", bun, ["bench/nats_delayed.ts"]],
  ["NATS list (Bun)", bun, ["bench/nats_list.ts"]],
  ["Postgres outbox (Bun)", bun, ["bench/outbox_bench.ts"]],
  ["Postgres outbox, fsync on (Bun)", bun, ["bench/outbox_bench.ts", "--fsync"]],
  ["dashboard, 100k records (Bun: NATS; wrangler dev)", bun, ["bench/dashboard_bench.ts"]],
  ["NATS 3-node cluster, R3 (Bun)", bun, ["bench/nats_cluster.ts"]],
  ["schedules, 10,000 every minute (Bun: NATS; wrangler dev)", bun, ["bench/schedules_bench.ts"]],
].filter(([, , args]) => existsSync(args.find((a) => a.startsWith("bench/") && a.endsWith(".ts"))));

const argv = process.argv.slice(2);
const soakAt = argv.indexOf("--soak");
if (soakAt >= 0) {
  // Soak mode: mixed load and faults for the given time (`--soak 10m`), nothing else.
  const run = spawnSync(bun, ["bench/soak.ts", argv[soakAt + 1] ?? "10m"], { env, stdio: "inherit" });
  process.exit(run.status ?? 1);
}
const only = argv.filter((a) => !a.startsWith("-"));
const sections = [];
for (const [title, command, args] of benches) {
  if (only.length && !only.some((o) => title.toLowerCase().includes(o.toLowerCase()))) continue;
  console.log(`\n== ${title}: ${command} ${args.join(" ")}`);
  const started = Date.now();
  const run = spawnSync(command, args, { env, encoding: "utf8", timeout: 600_000 });
  process.stdout.write(run.stdout ?? "");
  process.stderr.write(run.stderr ?? "");
  const rows = (run.stdout ?? "").split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| figure"));
  const status = run.status === 0 ? "" : ` (exit ${run.status ?? run.signal}: see the output above)`;
  sections.push({ title: title + status, rows, seconds: (Date.now() - started) / 1000 });
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, ` +
  `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
let table = "| benchmark | figure | edgebus | raw peer | ratio |\n|---|---|---|---|---|\n";
for (const s of sections) {
  for (const r of s.rows) table += `| ${s.title} ${r}\n`;
  if (s.rows.length === 0) table += `| ${s.title} | no figures | | | |\n`;
}
console.log(`\n${table}`);
if (only.length) {
  console.log("(a partial run: bench/RESULTS.md is left as it was)");
} else {
  writeFileSync("bench/RESULTS.md", `# Benchmark results\n\nMachine: ${machine}.\n\n${table}`);
  console.log("written to bench/RESULTS.md");
}
