// Runs a TypeScript benchmark on Node 20, which cannot load .ts files itself: esbuild (already
// installed with wrangler) bundles the benchmark's own code, npm packages stay imports.
// Usage: node bench/node_run.mjs bench/nats_publish.ts [args...]
import { build } from "esbuild";
import { mkdirSync } from "node:fs";
import { basename, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const entry = process.argv[2];
if (!entry) {
  console.error("usage: node bench/node_run.mjs <file.ts> [args...]");
  process.exit(2);
}
const outdir = resolve("node_modules/.cache/edgebus-bench");
mkdirSync(outdir, { recursive: true });
const outfile = resolve(outdir, basename(entry).replace(/\.ts$/, ".mjs"));
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  logLevel: "warning",
});
await import(pathToFileURL(outfile).href);
