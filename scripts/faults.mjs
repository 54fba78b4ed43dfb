// `npm run test:faults`: the fault-injection suite at full scale; `--short` (inside `npm test`)
// runs each case smaller. Every case prints RESULT lines with lost / duplicated / unexpected
// counts; any count above 0 fails the run. The cases run under Bun (its WebSocket is the fast one
// for NATS; see TOOLCHAIN.md).
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { env as baseEnv } from "./env.mjs";

const short = process.argv.includes("--short");
const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const env = { ...baseEnv, FAULT_SCALE: short ? "short" : "full" };
const cases = readdirSync("test/faults").filter((f) => f.endsWith("_fault.ts")).sort()
  .filter((f) => !only.length || only.some((o) => f.includes(o)));

/** Fault 7 runs inside workerd (vitest with the Workers pool); `npm test` already runs it there. */
const WORKERD = "test/cloudflare/faults_test.ts";
if (!short && (!only.length || only.some((o) => o === "workerd" || WORKERD.includes(o)))) cases.push(WORKERD);
const commandOf = (file) =>
  file === WORKERD
    ? ["node_modules/.bin/vitest", ["run", "-c", "vitest.cloudflare.config.ts", WORKERD]]
    : ["node_modules/.bin/bun", [`test/faults/${file}`]];

function run(file) {
  return new Promise((resolve) => {
    console.log(`\n== ${file} (${short ? "short" : "full"})`);
    const started = Date.now();
    const [command, args] = commandOf(file);
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    const limit = setTimeout(() => child.kill("SIGKILL"), short ? 240_000 : 1_800_000);
    child.on("close", (code, signal) => {
      clearTimeout(limit);
      const pattern = /^RESULT (.+?): lost=(\d+) duplicated=(\d+) unexpected=(\d+)(?: allowed=(\S+))?/gm;
      const results = [...out.matchAll(pattern)].map(([, name, lost, duplicated, unexpected, allowed]) => {
        // A case may allow lost or duplicated above 0 (it prints why): that count does not fail the
        // run, and the summary still shows it.
        const allow = new Set((allowed ?? "").split(","));
        const counts = { lost: +lost, duplicated: +duplicated, unexpected: +unexpected };
        const ok = Object.entries(counts).every(([key, value]) =>
          value === 0 || (key !== "unexpected" && allow.has(key))
        );
        return { name, ...counts, ok, allowed };
      });
      resolve({ file, code: code ?? signal, results, seconds: ((Date.now() - started) / 1000).toFixed(0) });
    });
  });
}

if (!existsSync("node_modules/.bin/bun")) {
  console.error("bun is missing: run npm ci");
  process.exit(1);
}
let passed = 0;
let failed = 0;
const lines = [];
for (const file of cases) {
  const { code, results, seconds } = await run(file);
  if (code !== 0 || results.length === 0) {
    failed++;
    lines.push(`FAIL ${file}: exit ${code}, ${results.length} results (${seconds} s)`);
  }
  for (const r of results) {
    r.ok ? passed++ : failed++;
    const note = r.allowed ? ` (${r.allowed} allowed: see above)` : "";
    const counts = `lost=${r.lost} duplicated=${r.duplicated} unexpected=${r.unexpected}`;
    lines.push(`${r.ok ? "ok  " : "FAIL"} ${r.name}: ${counts}${note} (${seconds} s)`);
  }
}
console.log(`\n== fault suite (${short ? "short" : "full"})\n${lines.join("\n")}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
