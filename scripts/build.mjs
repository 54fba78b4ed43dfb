// Builds dist/ for npm (ES modules with .d.ts) and checks that the built entries import. The
// packed package is checked by scripts/package_check.mjs (publint, attw, a fresh install).
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

rmSync("dist", { recursive: true, force: true });
const tsc = spawnSync("node_modules/.bin/tsc", ["-p", "tsconfig.build.json"], { stdio: "inherit" });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

// The docs' examples import the JSR name (Deno runs them as tests); npm users install "edgebus".
const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]
  );
let renamed = 0;
for (const file of walk("dist").filter((f) => f.endsWith(".d.ts") || f.endsWith(".js"))) {
  const text = readFileSync(file, "utf8");
  if (!text.includes("@edgebus/edgebus")) continue;
  writeFileSync(file, text.replaceAll('"@edgebus/edgebus', '"edgebus'));
  renamed++;
}

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
for (const [key, target] of Object.entries(pkg.exports)) {
  const mod = await import(new URL(`../${target.default}`, import.meta.url).href);
  if (Object.keys(mod).length === 0) {
    console.error(`${key}: ${target.default} exports nothing`);
    process.exit(1);
  }
}
console.log(
  `built dist/ (${Object.keys(pkg.exports).length} entries; the JSR name in ${renamed} files' docs written as ` +
    `"edgebus"); each entry imports`,
);
