/**
 * The NATS JetStream driver for edgebus: the same bus in Deno, Bun and Node services, with
 * events, delayed events (up to a year, on nats-server 2.9 and newer), records and dead letters
 * kept in JetStream, reached over WebSocket (`wsconnect`) or an injected TCP connect.
 *
 * @example A worker and publisher in one process
 * ```ts ignore
 * import { createBus } from "edgebus";
 * import { natsDriver } from "edgebus/nats";
 *
 * const bus = createBus({ driver: natsDriver({ servers: "ws://127.0.0.1:8080", group: "mailer" }) });
 * bus.on("user.joined", async (event) => {
 *   console.log("welcome", event.body);
 * });
 * await bus.start();
 * await bus.publish("user.joined", { after: "1 day" }, { user_id: "2b6m" });
 * ```
 *
 * @module
 */
// Resolved first, so that a project missing the NATS peers is told to install the JetStream
// client by name (the driver's own modules reach @nats-io/nats-core first).
import "@nats-io/jetstream";
export { natsDriver, type NatsDriverOptions } from "./driver.ts";
export type { ConnectFn, NatsConnectionLike, NatsConnectOptions } from "./connect.ts";
