// `npm start`: the example Worker (examples/worker.ts, with the HTTP API mounted and the
// dashboard at http://127.0.0.1:8787/ui, where / redirects) under `wrangler dev`: fully local and
// offline, state kept in .wrangler/state between runs.
// Address and port are in wrangler.toml's [dev] section, the API token in .dev.vars (copied
// from .dev.vars.example on the first run). PORT and EDGEBUS_TOKEN override them.
// The in-process tour is `npm run quickstart`.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { offline } from "./env.mjs";

if (!existsSync(".dev.vars")) copyFileSync(".dev.vars.example", ".dev.vars");
const args = ["dev"];
if (process.env.PORT) args.push("--port", process.env.PORT);
if (process.env.EDGEBUS_TOKEN) args.push("--var", `EDGEBUS_TOKEN:${process.env.EDGEBUS_TOKEN}`);
console.log(
  "edgebus: the dashboard will be at http://127.0.0.1:%s/ui (sign in with the token in .dev.vars)",
  process.env.PORT ?? 8787,
);
const child = spawn("node_modules/.bin/wrangler", args, { stdio: "inherit", env: { ...process.env, ...offline } });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
