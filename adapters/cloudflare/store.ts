import {
  decodeCursor,
  DEFAULT_LIST_LIMIT,
  type EventRecord,
  type EventStatus,
  type ListQuery,
  newerFirst,
  type Page,
  pageOf,
  type RecordStore,
  type StatusCounts,
} from "../../driver/mod.ts";
import type { SweepConfig } from "./overdue.ts";
import type { DurableObjectNamespaceLike } from "./platform.ts";
import { callObject } from "./rpc.ts";
import { groupByShard, objectName, shardOf } from "./shard.ts";

/** What the record store needs: the namespace (resolved per call), its sharding, retention. */
export interface DurableStoreOptions {
  /** The `EdgebusStore` namespace. */
  readonly namespace: () => Promise<DurableObjectNamespaceLike>;
  /** Keeps two buses on one namespace apart. */
  readonly prefix: string;
  /** How many objects records are spread over. */
  readonly shards: number;
  /** How long finished records are kept, ms. */
  readonly retention: number;
  /** What the shard's sweep needs to re-send a lost event, sent along with each write. */
  readonly sweep: SweepConfig;
}

/** The record store, plus the large bodies kept beside the records. */
export interface DurableStore extends RecordStore {
  /** Stores envelopes as JSON, by event id. */
  putBodies(rows: readonly (readonly [id: string, envelope: string])[]): Promise<void>;
  /** A stored envelope's JSON, or undefined. */
  getBody(id: string): Promise<string | undefined>;
  /** Removes stored envelopes. */
  deleteBodies(ids: readonly string[]): Promise<void>;
}

/**
 * A record store on {@linkcode EdgebusStore} objects, sharded by a hash of the event id; a
 * listing asks every shard for one page and merges them.
 *
 * @param options the namespace, the sharding and the retention
 * @returns the store
 */
export function durableStore(options: DurableStoreOptions): DurableStore {
  const { namespace, prefix, shards, retention, sweep } = options;
  const call = async <T>(shard: number, method: string, ...args: unknown[]): Promise<T> =>
    callObject<T>(await namespace(), objectName(prefix, "records", shard), method, args);
  const of = (id: string): number => shardOf(id, shards);

  return {
    get: (id) => call<EventRecord | undefined>(of(id), "get", id),
    async create(records, dedupSince) {
      const answers: boolean[] = new Array(records.length);
      const groups = groupByShard(records, (r) => r.id, shards);
      await Promise.all([...groups].map(async ([shard, group]) => {
        const created = await call<boolean[]>(shard, "create", group.map((g) => g.item), dedupSince, retention, sweep);
        group.forEach((g, i) => (answers[g.index] = created[i]));
      }));
      return answers;
    },
    put: (record) => call<void>(of(record.id), "put", record, retention, sweep),
    delete: (id) => call<boolean>(of(id), "delete", id),
    async list(query: ListQuery): Promise<Page<EventRecord>> {
      const { limit = DEFAULT_LIST_LIMIT, cursor } = query;
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      const { status, name, correlationId, bodyLimit } = query;
      const pages = await Promise.all(
        Array.from(
          { length: shards },
          (_, shard) => call<EventRecord[]>(shard, "page", { status, name, limit, correlationId, bodyLimit }, after),
        ),
      );
      const found = pages.flat().sort(newerFirst);
      return pageOf(found, limit);
    },
    async count() {
      const counts: StatusCounts = {};
      const shardCounts = await Promise.all(Array.from({ length: shards }, (_, s) => call<StatusCounts>(s, "count")));
      for (const one of shardCounts) {
        for (const [status, n] of Object.entries(one) as [EventStatus, number][]) {
          counts[status] = (counts[status] ?? 0) + n;
        }
      }
      return counts;
    },
    async putBodies(rows) {
      const groups = groupByShard(rows, (row) => row[0], shards);
      await Promise.all([...groups].map(([shard, group]) => call<void>(shard, "putBodies", group.map((g) => g.item))));
    },
    getBody: (id) => call<string | undefined>(of(id), "getBody", id),
    async deleteBodies(ids) {
      const groups = groupByShard(ids, (id) => id, shards);
      await Promise.all(
        [...groups].map(([shard, group]) => call<void>(shard, "deleteBodies", group.map((g) => g.item))),
      );
    },
  };
}
