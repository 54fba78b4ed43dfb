// Checks that deno.json and package.json declare the same version and the same exports, and
// that the core (mod.ts, src/, and the entries for driver authors: driver/, testing/) uses no
// runtime-specific API.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const problems = [];
const deno = JSON.parse(readFileSync("deno.json", "utf8"));
const pkg = JSON.parse(readFileSync("package.json", "utf8"));

if (deno.version !== pkg.version) problems.push(`version: deno.json ${deno.version}, package.json ${pkg.version}`);
const denoKeys = Object.keys(deno.exports).sort();
const npmKeys = Object.keys(pkg.exports).sort();
if (JSON.stringify(denoKeys) !== JSON.stringify(npmKeys)) {
  problems.push(`exports: deno.json [${denoKeys}] but package.json [${npmKeys}]`);
}
for (const key of denoKeys) {
  const source = deno.exports[key].replace(/^\.\//, "").replace(/\.ts$/, "");
  const built = pkg.exports[key]?.default?.replace(/^\.\/dist\//, "").replace(/\.js$/, "");
  if (source !== built) {
    problems.push(`export "${key}": deno.json ${deno.exports[key]} vs package.json ${pkg.exports[key]?.default}`);
  }
  try {
    statSync(deno.exports[key]);
  } catch {
    problems.push(`export "${key}": ${deno.exports[key]} does not exist`);
  }
}

const impure = /\b(Deno|Bun)\.|\bprocess\.|from\s+["'](cloudflare:|node:)|\brequire\(/;
const files = ["mod.ts", ...["src", "driver", "testing"].flatMap(walk)];
for (const file of files) {
  readFileSync(file, "utf8").split("\n").forEach((line, i) => {
    if (impure.test(line) && !line.trim().startsWith("*") && !line.trim().startsWith("//")) {
      problems.push(`runtime-specific code in the core: ${file}:${i + 1}: ${line.trim()}`);
    }
  });
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith(".ts") ? [path] : [];
  });
}

if (problems.length) {
  console.error(problems.map((p) => `- ${p}`).join("\n"));
  process.exit(1);
}
console.log(
  `manifests agree (version ${pkg.version}, ${npmKeys.length} exports); the core (${files.length} files) is runtime-neutral`,
);
