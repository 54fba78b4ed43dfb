/**
 * edgebus on Postgres: a transactional outbox. `outbox.publish(tx, ...)` writes the event in the
 * same transaction as your data; `outbox.relay(bus)` sends committed rows to a bus (memory, NATS,
 * Cloudflare through `remoteBus`) with their ids, so each committed row is one event. Works with
 * postgres.js, node-postgres, PGlite, and any client through a `(text, params) => rows` function;
 * this entry imports none of them.
 *
 * @example postgres.js
 * ```ts ignore
 * import postgres from "postgres";
 * import { createBus } from "@edgebus/edgebus";
 * import { postgresOutbox } from "@edgebus/edgebus/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const bus = createBus();
 * const outbox = postgresOutbox({ sql });
 * await outbox.migrate();
 * outbox.relay(bus);
 * await sql.begin(async (tx) => {
 *   await tx`UPDATE accounts SET plan = 'pro' WHERE id = ${"a1"}`;
 *   await outbox.publish(tx, "account.upgraded", { id: "a1" });
 * });
 * ```
 *
 * @module
 */
export type { PostgresJsLike, QueryableLike, QueryFunction, Row, SqlClient } from "./client.ts";
export { type PostgresOutbox, postgresOutbox, type PostgresOutboxOptions } from "./outbox.ts";
export type { Relay, RelayOptions, RelayTarget } from "./relay.ts";
export { DEFAULT_TABLE, outboxSchema } from "./schema.ts";
