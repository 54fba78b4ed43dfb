/**
 * edgebus over HTTP: `remoteBus(url, { token, signingSecret })` publishes into a bus served by
 * the edgebus router (`edgebus/hono`), such as a Worker's, from any service, and is a relay
 * target for the Postgres outbox. It uses `fetch` and Web Crypto only, and imports no library.
 *
 * @example Relay a Postgres outbox into a Worker
 * ```ts ignore
 * import { remoteBus } from "@edgebus/edgebus/remote";
 * import { postgresOutbox } from "@edgebus/edgebus/postgres";
 *
 * const worker = remoteBus("https://app.example.com/bus", { token: "...", signingSecret: "..." });
 * postgresOutbox({ sql }).relay(worker);
 * ```
 *
 * @module
 */
export { type RemoteBus, remoteBus, RemoteBusError, type RemoteBusOptions } from "./remote_bus.ts";
