import { EdgebusError, type PublishItem, type PublishOptions } from "../../mod.ts";
import { idGenerator, publishItem } from "../../driver/mod.ts";
import { queryOf, type SqlClient } from "./client.ts";
import { type Relay, type RelayOptions, type RelayTarget, startRelay } from "./relay.ts";
import { type OutboxRow, rowsOf } from "./rows.ts";
import { bareName, checkTable, DEFAULT_TABLE, outboxSchema } from "./schema.ts";

/** Options of {@linkcode postgresOutbox}. */
export interface PostgresOutboxOptions {
  /** The connection the relay and `migrate()` use: a postgres.js `sql`, a node-postgres `Pool` (or
   * `Client`), a PGlite instance, or a query function (which cannot LISTEN: its relay polls). Only
   * `publish` works without it. */
  readonly sql?: SqlClient;
  /** The outbox table, optionally schema-qualified. @default {"edgebus_outbox"} */
  readonly table?: string;
  /** The NOTIFY channel that wakes relays. @default {the table name without its schema} */
  readonly channel?: string;
  /** Wake relays with a NOTIFY from the publishing transaction (delivered at commit, dropped on
   * rollback); without it relays find rows by polling. @default {true} */
  readonly notify?: boolean;
  /** At most one NOTIFY per this many ms from this outbox object. Postgres serializes the commits
   * of notifying transactions (a lock held through the commit's flush), so a NOTIFY in every
   * transaction halves a busy database's commit rate; a relay, once woken, looks again every 10 ms
   * while rows keep coming, which finds the rows written in between. 0 notifies on every publish.
   * @default {10} */
  readonly notifyEvery?: number;
  /** The clock, epoch ms: due times are computed and read with it. @default {Date.now} */
  readonly now?: () => number;
}

/** A Postgres outbox: events written in your transaction, relayed to a bus after commit. */
export interface PostgresOutbox {
  /** The table. */
  readonly table: string;
  /** Writes an event in the transaction `tx`; resolves to its id (the event id on the bus). */
  publish(tx: SqlClient, name: string, body?: unknown): Promise<string>;
  /** The same with options (Ampt's order): `after`, `id`, `correlationId`, `origin`. */
  publish(tx: SqlClient, name: string, options: PublishOptions, body: unknown): Promise<string>;
  /** Writes several events in the transaction `tx`, after checking them all; resolves to their ids. */
  publishBatch(tx: SqlClient, items: readonly PublishItem[]): Promise<string[]>;
  /** Creates the table and its indexes if missing (with the `sql` connection). */
  migrate(): Promise<void>;
  /** Starts relaying committed rows to `target` (with the `sql` connection). */
  relay(target: RelayTarget, options?: RelayOptions): Relay;
}

/**
 * A transactional outbox on Postgres (13 and later): `publish(tx, ...)` writes the event as a row
 * of your own transaction, so the event exists if and only if your data does, and a relay moves
 * committed rows to a bus. The row id is the event id: a relay that dies after sending and before
 * deleting sends the row again, and the bus keeps one event (at least once from the outbox to the
 * bus, exactly one event per committed row within the bus's dedup window).
 *
 * @param options the relay's connection, the table, NOTIFY, the clock
 * @returns the outbox
 * @throws {EdgebusError} code `invalid_option` for a bad table, channel or client
 *
 * @example With PGlite (postgres.js, node-postgres and query functions work the same way)
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { createBus } from "../../mod.ts";
 * import { postgresOutbox } from "./mod.ts";
 *
 * const db = await PGlite.create();
 * const bus = createBus();
 * const outbox = postgresOutbox({ sql: db });
 * await outbox.migrate();
 * await db.query("CREATE TABLE users (id text PRIMARY KEY)");
 * await db.transaction(async (tx) => {
 *   await tx.query("INSERT INTO users VALUES ($1)", ["2b6m"]);
 *   await outbox.publish(tx, "user.joined", { user_id: "2b6m" });
 * });
 * const relay = outbox.relay(bus);
 * console.log(await relay.flush()); // 0 or 1: the running relay may have sent it already
 * await relay.stop();
 * await bus.stop();
 * await db.close();
 * ```
 */
export function postgresOutbox(options: PostgresOutboxOptions = {}): PostgresOutbox {
  const { sql, notify = true, notifyEvery = 10, now = Date.now } = options;
  if (!(notifyEvery >= 0)) {
    throw new EdgebusError("invalid_option", `Invalid notifyEvery ${notifyEvery}: expected ms >= 0`);
  }
  const table = checkTable(options.table ?? DEFAULT_TABLE);
  const channel = options.channel ?? bareName(table);
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) {
    throw new EdgebusError(
      "invalid_option",
      `Invalid channel ${JSON.stringify(channel)}: use lower-case letters, digits and _`,
    );
  }
  const query = sql === undefined ? undefined : queryOf(sql, "the outbox's sql option");
  const newId = idGenerator(now);
  // One row (the common publish) is a plain INSERT; a NOTIFY rides in the same statement.
  const insertOne = (wake: boolean) =>
    `INSERT INTO ${table} (id, name, body, due, correlation_id, origin)
SELECT $1, $2, $3::text::json, to_timestamp($4::float8 / 1000.0), $5, $6${
      wake ? " FROM (SELECT pg_notify($7, '')) AS wake" : ""
    }
ON CONFLICT (id) DO NOTHING`;
  // A batch goes in as one JSON parameter.
  const insertMany = (wake: boolean) =>
    `WITH inserted AS (
  INSERT INTO ${table} (id, name, body, due, correlation_id, origin)
  SELECT r.id, r.name, r.body, to_timestamp(r.due / 1000.0), r.correlation_id, r.origin
  FROM json_to_recordset($1::text::json) AS r(id text, name text, body json, due float8, correlation_id text, origin text)
  ON CONFLICT (id) DO NOTHING RETURNING 1
) SELECT (SELECT count(*) FROM inserted)::int AS inserted${wake ? ", pg_notify($2, '')" : ""}`;
  const statements = {
    one: [insertOne(false), insertOne(true)],
    many: [insertMany(false), insertMany(true)],
  };
  let lastNotify = -Infinity;
  /** Whether this write carries a NOTIFY: at most one per `notifyEvery` ms. */
  const wake = (): boolean => {
    if (!notify) return false;
    const at = now();
    if (notifyEvery > 0 && at - lastNotify < notifyEvery) return false;
    lastNotify = at;
    return true;
  };

  const needSql = (what: string) => {
    if (!query) {
      throw new EdgebusError("invalid_option", `Cannot ${what}: pass postgresOutbox({ sql }) with a connection`);
    }
    return query;
  };

  async function write(tx: SqlClient, rows: readonly OutboxRow[]): Promise<string[]> {
    if (rows.length === 0) return [];
    const run = queryOf(tx, "the transaction");
    if (rows.length === 1) {
      const [r] = rows;
      const params = [r.id, r.name, r.body, r.due, r.correlationId, r.origin];
      const w = wake();
      await run(statements.one[w ? 1 : 0], w ? [...params, channel] : params);
      return [r.id];
    }
    const json = "[" +
      rows.map((r) =>
        `{"id":${JSON.stringify(r.id)},"name":${JSON.stringify(r.name)},"body":${r.body},"due":${r.due},` +
        `"correlation_id":${JSON.stringify(r.correlationId)},"origin":${JSON.stringify(r.origin)}}`
      ).join(",") + "]";
    const w = wake();
    await run(statements.many[w ? 1 : 0], w ? [json, channel] : [json]);
    return rows.map((r) => r.id);
  }

  return {
    table,
    publish(tx: SqlClient, name: string, ...args: unknown[]): Promise<string> {
      try {
        const rows = rowsOf([publishItem(name, args)], now(), newId);
        return write(tx, rows).then((written) => written[0]);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    publishBatch(tx, items) {
      try {
        return write(tx, rowsOf(items, now(), newId));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    async migrate() {
      const run = needSql("migrate");
      for (const statement of outboxSchema(table)) await run(statement);
    },
    relay(target, relayOptions) {
      const run = needSql("relay");
      return startRelay({ client: sql!, query: run, table, channel, now }, target, relayOptions);
    },
  } as PostgresOutbox;
}
