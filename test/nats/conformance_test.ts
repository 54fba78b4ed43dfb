import { runDriverConformance } from "../conformance/mod.ts";
import { freshPrefix, testDriver } from "./helpers.ts";
import { startNatsServer } from "./server.ts";

const server = await startNatsServer();

runDriverConformance({
  name: "nats",
  create: () => testDriver(server, { prefix: freshPrefix() }),
});
