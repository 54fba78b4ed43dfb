import { EdgebusError } from "../../mod.ts";

/** A row as the clients return it. */
export type Row = Record<string, unknown>;

/** A postgres.js `sql` or the `tx` of `sql.begin(tx => ...)`: what the outbox calls of it. */
export interface PostgresJsLike {
  /** Runs a query with `$1`-style parameters; the outbox asks for a prepared statement. */
  unsafe(query: string, parameters?: unknown[], options?: { prepare?: boolean }): PromiseLike<readonly Row[]>;
}

/** A node-postgres `Pool`, `Client` or `PoolClient`, or a PGlite instance or transaction. */
export interface QueryableLike {
  /** Runs a query with `$1`-style parameters. */
  query(text: string, values?: unknown[]): PromiseLike<{ rows: readonly Row[] }>;
}

/** Any other client (Drizzle, Kysely, ...): run `text` with `$1`-style `params`, answer the rows. */
export type QueryFunction = (text: string, params: unknown[]) => PromiseLike<readonly Row[] | { rows: readonly Row[] }>;

/**
 * What the outbox accepts as a connection or transaction: a postgres.js `sql`/`tx`, a
 * node-postgres pool or client, a PGlite instance or transaction, or a query function.
 */
export type SqlClient = PostgresJsLike | QueryableLike | QueryFunction;

/** A query runner over any {@linkcode SqlClient}. */
export type Query = (text: string, params?: unknown[]) => Promise<readonly Row[]>;

/**
 * Makes one query function out of any supported client, told apart by shape: postgres.js has
 * `unsafe`, node-postgres and PGlite have `query`, anything else must be a function.
 *
 * @param client the client or transaction
 * @param what what it is for, for the message
 * @returns a function running a query and answering its rows
 * @throws {EdgebusError} code `invalid_option` when the client has none of these shapes
 */
export function queryOf(client: SqlClient, what: string): Query {
  const c = client as unknown as Partial<PostgresJsLike & QueryableLike>;
  if (client !== null && typeof c.unsafe === "function") {
    // Prepared: postgres.js otherwise describes an unprepared statement first, one more round trip.
    return async (text, params = []) => await (client as PostgresJsLike).unsafe(text, params, { prepare: true });
  }
  if (client !== null && typeof client === "object" && typeof c.query === "function") {
    return async (text, params = []) => (await (client as QueryableLike).query(text, params)).rows;
  }
  if (typeof client === "function") {
    return async (text, params = []) => {
      const result = await (client as QueryFunction)(text, params);
      return Array.isArray(result) ? result : (result as { rows: readonly Row[] }).rows;
    };
  }
  throw new EdgebusError(
    "invalid_option",
    `Cannot use ${what}: expected a postgres.js sql or transaction, a node-postgres pool or client, a PGlite ` +
      `instance, or a function (text, params) => rows, got ${client === null ? "null" : typeof client}`,
  );
}

/** Runs `fn` in one transaction on one connection, committing when it resolves. */
export type InTransaction = <T>(fn: (query: Query) => Promise<T>) => Promise<T>;

/**
 * How to open a transaction with a client, when it can: postgres.js `sql.begin`, or a connection
 * of a node-postgres pool between `BEGIN` and `COMMIT`. A single node-postgres client, PGlite (one
 * connection for everything: an open transaction would hold up the application's writes), a
 * transaction already open and a query function cannot.
 *
 * @param client the relay's client
 * @returns the runner, or undefined
 */
export function transactionsOf(client: SqlClient): InTransaction | undefined {
  // deno-lint-ignore no-explicit-any
  const c = client as any;
  if (typeof c.begin === "function" && typeof c.unsafe === "function") {
    return async <T>(fn: (query: Query) => Promise<T>): Promise<T> => {
      let inner: Promise<T> | undefined;
      try {
        return await c.begin((tx: SqlClient) => (inner = fn(queryOf(tx, "a transaction"))));
      } catch (error) {
        // postgres.js rejects as soon as the connection fails, even while `fn` still runs (a send
        // in flight): wait for it, so that a relay never sends the same rows twice at once.
        await inner?.catch(() => {});
        throw error;
      }
    };
  }
  if (typeof c.connect === "function" && "idleCount" in c) {
    return async (fn) => {
      const conn = await c.connect();
      let failed = false;
      try {
        await conn.query("BEGIN");
        const result = await fn(queryOf(conn, "a pool connection"));
        await conn.query("COMMIT");
        return result;
      } catch (error) {
        failed = true;
        await conn.query("ROLLBACK").catch(() => {});
        throw error;
      } finally {
        // A connection that saw an error is closed rather than reused: it may be broken.
        conn.release(failed ? true : undefined);
      }
    };
  }
  return undefined;
}
