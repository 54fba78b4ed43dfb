import { EdgebusError } from "../../mod.ts";

/** The default outbox table. */
export const DEFAULT_TABLE = "edgebus_outbox";

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

/**
 * Checks a table name: lower-case letters, digits and `_`, optionally schema-qualified
 * (`app.outbox`), so that it never needs quoting.
 *
 * @param table the name
 * @returns the name
 * @throws {EdgebusError} code `invalid_option`
 */
export function checkTable(table: string): string {
  if (typeof table !== "string" || !IDENTIFIER.test(table)) {
    throw new EdgebusError(
      "invalid_option",
      `Invalid outbox table ${JSON.stringify(table)}: use lower-case letters, digits and _, optionally "schema.table"`,
    );
  }
  return table;
}

/** The table's name without its schema, for index and channel names. */
export function bareName(table: string): string {
  return table.slice(table.indexOf(".") + 1);
}

/**
 * The SQL statements that create the outbox table and its index (Postgres 13 and later). Each
 * is idempotent; run them in order, or call `outbox.migrate()`.
 *
 * @param table the table name @default {"edgebus_outbox"}
 * @returns the statements
 * @throws {EdgebusError} code `invalid_option` for a bad table name
 *
 * @example Print the migration
 * ```ts
 * import { outboxSchema } from "./mod.ts";
 * console.log(outboxSchema("app_outbox").join(";\n") + ";");
 * ```
 */
export function outboxSchema(table: string = DEFAULT_TABLE): string[] {
  const name = checkTable(table);
  const bare = bareName(name);
  return [
    `CREATE TABLE IF NOT EXISTS ${name} (
  id text PRIMARY KEY,
  name text NOT NULL,
  body json NOT NULL,
  due timestamptz,
  correlation_id text,
  origin text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  locked_until timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  last_error text
)`,
    `CREATE INDEX IF NOT EXISTS ${bare}_unsent ON ${name} (created_at, id) WHERE sent_at IS NULL`,
    `CREATE INDEX IF NOT EXISTS ${bare}_sent ON ${name} (sent_at) WHERE sent_at IS NOT NULL`,
  ];
}
