// `npm test`: format and lint, type checks, package checks, then the tests on Node (vitest),
// Deno and Bun (and workerd, when the Cloudflare tests exist). Stops at the first problem and
// ends with a per-runtime summary and one "N passed, N failed" line. The counts come from each
// runner's JUnit report (in .test-output/), not from its terminal output.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { env } from "./env.mjs";

const bin = (name) => `node_modules/.bin/${name}`;
const summary = [];

function run(label, command, args, count) {
  return new Promise((resolve) => {
    console.log(`\n== ${label}: ${command} ${args.join(" ")}`);
    const started = Date.now();
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const take = (stream, sink) =>
      stream.on("data", (chunk) => {
        output += chunk;
        sink.write(chunk);
      });
    take(child.stdout, process.stdout);
    take(child.stderr, process.stderr);
    child.on("close", (code) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const counts = count ? count(output) : undefined;
      resolve({ label, ok: code === 0, code, seconds, counts });
    });
  });
}

/** Counts the test cases of a JUnit XML report: those with a <failure> or an <error> failed,
 * skipped ones are left out, the rest passed. A missing report counts nothing. */
function junitCounts(file) {
  const xml = existsSync(file) ? readFileSync(file, "utf8") : "";
  const counts = { passed: 0, failed: 0 };
  for (const [, , body = ""] of xml.matchAll(/<testcase\b(?:"[^"]*"|[^>"])*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    if (/<(failure|error)\b/.test(body)) counts.failed++;
    else if (!/<skipped\b/.test(body)) counts.passed++;
  }
  return counts;
}
const report = (name) => `.test-output/${name}.xml`;
/** A runner that writes a JUnit report: the report is removed first, so that a stale one never counts. */
const junit = (name) => {
  rmSync(report(name), { force: true });
  return () => junitCounts(report(name));
};
const vitestJunit = (name) => ["--reporter=default", "--reporter=junit", `--outputFile.junit=${report(name)}`];

const checks = [
  ["format", bin("deno"), ["fmt", "--check"]],
  ["lint", bin("deno"), ["lint"]],
  ["manifests and core purity", "node", ["scripts/check_manifests.mjs"]],
  ["type check: the core alone, without runtime types", bin("tsc"), ["-p", "tsconfig.core.json"]],
  ["type check: everything, with Deno", bin("deno"), [
    "check",
    "mod.ts",
    "adapters",
    "driver",
    "testing",
    "test",
    "examples",
    "bench",
  ]],
  ["docs: every export documented", bin("deno"), [
    "doc",
    "--lint",
    "mod.ts",
    "adapters/nats/mod.ts",
    "adapters/cloudflare/mod.ts",
    "adapters/postgres/mod.ts",
    "adapters/remote/mod.ts",
    "driver/mod.ts",
    "testing/mod.ts",
  ]],
  ["build for npm", "node", ["scripts/build.mjs"]],
  ["package: publint, attw, a fresh install", "node", ["scripts/package_check.mjs"]],
  ["build the Worker (wrangler deploy --dry-run)", bin("wrangler"), ["deploy", "--dry-run", "--outdir", "dist-worker"]],
  ["JSR dry run", bin("deno"), ["publish", "--dry-run", "--allow-dirty"]],
];

const suites = [
  ["Node (vitest)", bin("vitest"), ["run", ...vitestJunit("vitest")], "vitest"],
  // test/cloudflare (workerd only) is left out by deno.json's test.exclude: Deno 2.9 does not
  // apply --ignore to a folder when a file (mod.ts) is also named on the command line.
  [
    "Deno (with the docs' examples)",
    bin("deno"),
    ["test", "-A", "--doc", "--parallel", `--junit-path=${report("deno")}`, "mod.ts", "src/", "test/"],
    "deno",
  ],
  [
    "Bun",
    bin("bun"),
    [
      "test",
      "--path-ignore-patterns=test/cloudflare/**",
      "--reporter=junit",
      `--reporter-outfile=${report("bun")}`,
      "test/",
    ],
    "bun",
  ],
];
// The fault suite is our own script: its last line is the machine-readable "N passed, N failed".
const plainCounts = (out) => {
  const m = [...out.matchAll(/^(\d+) passed, (\d+) failed$/gm)].pop();
  return { passed: Number(m?.[1] ?? 0), failed: Number(m?.[2] ?? 0) };
};
if (existsSync("vitest.cloudflare.config.ts")) {
  suites.push([
    "workerd (vitest)",
    bin("vitest"),
    ["run", "-c", "vitest.cloudflare.config.ts", ...vitestJunit("workerd")],
    "workerd",
  ]);
}

suites.push(["fault suite, short (Bun, real nats-server)", "node", ["scripts/faults.mjs", "--short"], plainCounts]);

function finish(failedStep) {
  console.log("\n== summary");
  for (const r of summary) {
    const counts = r.counts ? `${r.counts.passed} passed, ${r.counts.failed} failed` : r.ok ? "ok" : `exit ${r.code}`;
    console.log(`${r.ok ? "ok  " : "FAIL"} ${r.label.padEnd(52)} ${counts} (${r.seconds} s)`);
  }
  const passed = summary.reduce((n, r) => n + (r.counts?.passed ?? 0), 0);
  let failed = summary.reduce((n, r) => n + (r.counts?.failed ?? 0), 0);
  if (failedStep && failed === 0) failed = 1; // a failed check counts, even if it ran no test
  if (failedStep) console.log(`stopped at: ${failedStep}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failedStep ? 1 : 0);
}

mkdirSync(".test-output", { recursive: true });
for (const [label, command, args] of checks) {
  const result = await run(label, command, args);
  summary.push(result);
  if (!result.ok) finish(label);
}
for (const [label, command, args, counts] of suites) {
  const result = await run(label, command, args, typeof counts === "string" ? junit(counts) : counts);
  if (result.ok && (!result.counts || result.counts.passed === 0)) result.ok = false; // ran no test
  summary.push(result);
  if (!result.ok) finish(label);
}
finish();
