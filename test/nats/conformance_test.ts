import { runDriverConformance } from "../conformance/mod.ts";
import { afterAll, RUNTIME } from "../lib/t.ts";
import { freshPrefix, testDriver } from "./helpers.ts";
import { startNatsServer } from "./server.ts";

const server = await startNatsServer();
afterAll(() => server.stop());

// Deno's WebSocket client leaves Nagle on and stalls about 40 ms a frame with several frames in
// flight (TOOLCHAIN.md), which breaks the suite's tighter timing checks: the suite uses TCP there.
// The other NATS test files run Deno over WebSocket.
const tcp = RUNTIME === "deno" ? true : undefined;

runDriverConformance({
  name: tcp ? "nats (tcp)" : "nats",
  create: () => testDriver(server, { prefix: freshPrefix() }, tcp),
  independentHandlers: true,
  noBatches: true,
});
