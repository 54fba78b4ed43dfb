// Builds dist/ for npm (ES modules with .d.ts) and checks that the built entries import.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
const tsc = spawnSync("node_modules/.bin/tsc", ["-p", "tsconfig.build.json"], { stdio: "inherit" });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
for (const [key, target] of Object.entries(pkg.exports)) {
  // The cloudflare entry imports "cloudflare:workers", which exists only inside workerd.
  if (key === "./cloudflare") continue;
  const mod = await import(new URL(`../${target.default}`, import.meta.url).href);
  if (Object.keys(mod).length === 0) {
    console.error(`${key}: ${target.default} exports nothing`);
    process.exit(1);
  }
}
// What `npm pack` would publish must hold every entry and its types.
const pack = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { encoding: "utf8" });
const packed = new Set(JSON.parse(pack.stdout)[0].files.map((f) => f.path));
const missing = Object.values(pkg.exports).flatMap((t) => [t.default, t.types]).map((p) => p.replace(/^\.\//, ""))
  .filter((p) => !packed.has(p));
if (missing.length) {
  console.error(`npm pack would miss: ${missing.join(", ")}`);
  process.exit(1);
}
console.log(`built dist/ (${Object.keys(pkg.exports).length} entries); npm pack holds ${packed.size} files`);
