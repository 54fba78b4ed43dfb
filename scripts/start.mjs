// `npm start`: runs the example. Deno comes from the npm package, so nothing else is needed.
import { spawnSync } from "node:child_process";

const result = spawnSync("node_modules/.bin/deno", ["run", "examples/quickstart.ts"], { stdio: "inherit" });
process.exit(result.status ?? 1);
