// Checks the package as npm would publish it: packs dist/ (run scripts/build.mjs first), lints the
// tarball with publint and attw (ESM-only profile), then installs it into a fresh project outside
// the repo, as a user would: alone (no adapter library comes along, no engine warning, the core
// imports, an adapter without its peers names the missing package), then with the peers, where a
// user's own Hono must accept the router. Installs prefer the local npm cache: the peers are
// installed at the versions of our devDependencies, which `npm ci` has just cached.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { env } from "./env.mjs";

const root = resolve(import.meta.dirname, "..");
const bin = (name) => join(root, "node_modules/.bin", name);
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const work = mkdtempSync(join(tmpdir(), "edgebus-package-"));
const problems = [];

function sh(command, args, cwd = work) {
  const run = spawnSync(command, args, { cwd, env, encoding: "utf8" });
  return { ok: run.status === 0, out: `${run.stdout ?? ""}${run.stderr ?? ""}` };
}
function step(label, command, args, cwd) {
  const run = sh(command, args, cwd);
  console.log(`-- ${label}${run.ok ? "" : " (failed)"}`);
  if (!run.ok) {
    console.log(run.out.trim());
    problems.push(label);
  }
  return run;
}

try {
  const pack = sh("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], root);
  if (!pack.ok) throw new Error(`npm pack failed:\n${pack.out}`);
  const tarball = join(work, JSON.parse(pack.out.slice(pack.out.indexOf("[")))[0].filename);
  console.log(`packed ${tarball}`);

  step("publint (strict)", bin("publint"), ["--strict", tarball]);
  step("attw --profile esm-only", bin("attw"), [tarball, "--profile", "esm-only"]);

  const app = join(work, "app");
  sh("mkdir", ["-p", app]);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  const npmInstall = ["install", "--no-audit", "--no-fund", "--prefer-offline"];
  const alone = step(
    "install edgebus alone (--engine-strict)",
    "npm",
    [...npmInstall, "--engine-strict", tarball],
    app,
  );
  // Alone means edgebus and its one dependency, croner (schedules), which has none of its own.
  const installed = readdirSync(join(app, "node_modules")).filter((name) => !name.startsWith("."));
  const expected = ["edgebus", ...Object.keys(pkg.dependencies ?? {})].sort();
  if (installed.sort().join() !== expected.join()) {
    problems.push(`installing edgebus alone installed ${installed}, expected ${expected}`);
  }
  if (/EBADENGINE|notsup/i.test(alone.out)) problems.push(`installing edgebus alone warned:\n${alone.out}`);

  writeFileSync(join(app, "core.mjs"), 'import { createBus } from "edgebus";\nconsole.log(typeof createBus);\n');
  const core = sh("node", ["core.mjs"], app);
  if (core.out.trim() !== "function") problems.push(`import { createBus } from "edgebus" failed:\n${core.out}`);

  for (const [entry, peer] of [["edgebus/nats", "@nats-io/jetstream"], ["edgebus/hono", "hono"]]) {
    const run = sh("node", ["--input-type=module", "-e", `import ${JSON.stringify(entry)};`], app);
    const named = !run.ok && run.out.includes(`Cannot find package '${peer}'`);
    console.log(`-- import "${entry}" without its peers ${named ? `names ${peer}` : "(unexpected)"}`);
    if (!named) problems.push(`import "${entry}" without peers: expected an error naming ${peer}, got:\n${run.out}`);
  }

  // Entries that take the user's client object import no library of their own.
  for (const entry of ["edgebus/postgres", "edgebus/remote"]) {
    const run = sh("node", ["--input-type=module", "-e", `import ${JSON.stringify(entry)};`], app);
    console.log(`-- import "${entry}" without any peer ${run.ok ? "works" : "(failed)"}`);
    if (!run.ok) problems.push(`import "${entry}" without peers failed:\n${run.out}`);
  }

  const peers = Object.keys(pkg.peerDependencies).map((name) => `${name}@${pkg.devDependencies[name]}`);
  step(`install the peers (${peers.join(" ")})`, "npm", [...npmInstall, ...peers], app);
  writeFileSync(
    join(app, "check.ts"),
    [
      'import { Hono } from "hono";',
      'import { createBus } from "edgebus";',
      'import { router } from "edgebus/hono";',
      'import { natsDriver } from "edgebus/nats";',
      "",
      "const bus = createBus();",
      'export const app: Hono = new Hono().route("/bus", router(bus, { tokens: ["a-token-long-enough-1234"] }));',
      "export const driver: typeof natsDriver = natsDriver;",
      "",
    ].join("\n"),
  );
  // --target esnext: nats-core's own types use Symbol.asyncDispose.
  step("a user's Hono accepts router(bus) (tsc --strict, nodenext)", bin("tsc"), [
    "--noEmit",
    "--strict",
    "--module",
    "nodenext",
    "--moduleResolution",
    "nodenext",
    "--target",
    "esnext",
    "check.ts",
  ], app);
  const runs = sh("node", ["--input-type=module", "-e", 'import "edgebus/hono"; import "edgebus/nats";'], app);
  if (!runs.ok) problems.push(`the adapters do not import with their peers installed:\n${runs.out}`);
} catch (error) {
  problems.push(String(error?.message ?? error));
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (problems.length) {
  console.error(problems.map((p) => `- ${p}`).join("\n"));
  process.exit(1);
}
console.log("the packed package passes publint and attw, and installs and type-checks in a fresh project");
