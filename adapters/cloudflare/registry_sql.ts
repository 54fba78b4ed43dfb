import type { HandlerInfo } from "../../driver/mod.ts";
import type { DurableObjectStorageLike } from "./platform.ts";

/**
 * Records that a Worker version has these handlers, as of `at`, and forgets handlers nobody
 * announced since `at - ttl`.
 *
 * @param storage the storage of records shard 0
 * @param handlers the handlers
 * @param at when, epoch ms, by the announcing driver's clock
 * @param ttl how long an announcement counts, ms
 */
export function announceHandlers(
  storage: DurableObjectStorageLike,
  handlers: readonly HandlerInfo[],
  at: number,
  ttl: number,
): void {
  storage.transactionSync(() => {
    for (const { id, pattern } of handlers) {
      storage.sql.exec(
        `INSERT INTO handlers (id, pattern, seen) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET pattern = excluded.pattern, seen = MAX(seen, excluded.seen)`,
        id,
        pattern,
        at,
      );
    }
    storage.sql.exec("DELETE FROM handlers WHERE seen < ?", at - ttl);
  });
}

/**
 * The handlers announced at or after `since`.
 *
 * @param storage the storage of records shard 0
 * @param since epoch ms, by the asking driver's clock
 * @returns the handlers, by id
 */
export function knownHandlers(storage: DurableObjectStorageLike, since: number): HandlerInfo[] {
  return storage.sql.exec("SELECT id, pattern FROM handlers WHERE seen >= ? ORDER BY id", since).toArray()
    .map((row) => ({ id: row.id as string, pattern: row.pattern as string }));
}
