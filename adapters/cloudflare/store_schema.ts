import type { DurableObjectStorageLike } from "./platform.ts";

/**
 * The schema of a records shard, one step per version. A step is applied once, in order, in the
 * same transaction as the version it brings, when the object wakes: an object created by an
 * older release (which had no `meta` table, hence version 0) is brought up to date in place.
 * Steps are never edited once released; a change is a new step, and only adds (tables, columns,
 * indexes), so that the release before it still runs on the new tables.
 */
const STEPS: readonly (readonly string[])[] = [
  // 1: the records, and the bodies too large for a queue message.
  [
    `CREATE TABLE IF NOT EXISTS records (
      id TEXT PRIMARY KEY, time INTEGER NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
      updated INTEGER NOT NULL, data TEXT NOT NULL)`,
    "CREATE INDEX IF NOT EXISTS records_by_time ON records (time DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS records_by_status ON records (status, time DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS records_by_age ON records (status, updated)",
    "CREATE TABLE IF NOT EXISTS bodies (id TEXT PRIMARY KEY, envelope TEXT NOT NULL, created INTEGER NOT NULL)",
  ],
  // 2: the handlers each Worker version announces (shard 0 only, but cheap everywhere).
  ["CREATE TABLE handlers (id TEXT PRIMARY KEY, pattern TEXT NOT NULL, seen INTEGER NOT NULL)"],
  // 3: the due time as a column, so that the sweep finds overdue records by index. A release
  // from before this step (still running during a gradual deployment, or after a rollback)
  // inserts rows without it: the trigger fills it in.
  [
    "ALTER TABLE records ADD COLUMN due INTEGER",
    "UPDATE records SET due = json_extract(data, '$.due')",
    "CREATE INDEX records_by_due ON records (status, due)",
    `CREATE TRIGGER records_due AFTER INSERT ON records WHEN NEW.due IS NULL BEGIN
      UPDATE records SET due = json_extract(NEW.data, '$.due') WHERE id = NEW.id;
    END`,
  ],
  // 4: the correlation id as a column, so that a causation chain is found by index. As in step
  // 3, a trigger fills it in for rows a release from before this step inserts.
  [
    "ALTER TABLE records ADD COLUMN correlation TEXT",
    "UPDATE records SET correlation = json_extract(data, '$.correlationId')",
    "CREATE INDEX records_by_correlation ON records (correlation, time DESC, id DESC)",
    `CREATE TRIGGER records_correlation AFTER INSERT ON records WHEN NEW.correlation IS NULL BEGIN
      UPDATE records SET correlation = json_extract(NEW.data, '$.correlationId') WHERE id = NEW.id;
    END`,
  ],
];

/** The schema version this release writes. */
export const SCHEMA_VERSION: number = STEPS.length;

/**
 * Brings a records shard's tables to {@linkcode SCHEMA_VERSION}.
 *
 * @param storage the object's storage
 * @returns the version found before migrating
 */
export function migrate(storage: DurableObjectStorageLike): number {
  const { sql } = storage;
  sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  const [row] = sql.exec("SELECT value FROM meta WHERE key = 'version'").toArray();
  const found = row ? Number(row.value) : 0;
  // Steps only add: a release older than the tables (two versions in a gradual deployment, or a
  // rollback) keeps working on them, and leaves them as they are.
  if (found >= SCHEMA_VERSION) return found;
  storage.transactionSync(() => {
    for (const step of STEPS.slice(found)) for (const statement of step) sql.exec(statement);
    sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('version', ?)", String(SCHEMA_VERSION));
  });
  return found;
}

/**
 * Reads a value of the `meta` table.
 *
 * @param storage the object's storage
 * @param key the key
 * @returns the value, or undefined
 */
export function readMeta(storage: DurableObjectStorageLike, key: string): string | undefined {
  const [row] = storage.sql.exec("SELECT value FROM meta WHERE key = ?", key).toArray();
  return row?.value as string | undefined;
}

/**
 * Writes a value of the `meta` table.
 *
 * @param storage the object's storage
 * @param key the key
 * @param value the value
 */
export function writeMeta(storage: DurableObjectStorageLike, key: string, value: string): void {
  storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
}
