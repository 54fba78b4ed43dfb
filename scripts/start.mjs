// `npm start`: the example Worker (examples/worker.ts, with the HTTP API mounted) under
// `wrangler dev`: fully local and offline, state kept in .wrangler/state between runs.
// The in-process tour is `npm run quickstart`.
import { spawn } from "node:child_process";

const token = process.env.EDGEBUS_TOKEN ?? "dev-token-0123456789";
const child = spawn(
  "node_modules/.bin/wrangler",
  [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    process.env.PORT ?? "8787",
    "--persist-to",
    ".wrangler/state",
    "--var",
    `EDGEBUS_TOKEN:${token}`,
  ],
  // Offline: no metrics, and no fetch of Request.cf from Cloudflare (a placeholder is used).
  { stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" } },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
