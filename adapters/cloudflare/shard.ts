import { fnv1a } from "../../driver/mod.ts";

/**
 * Which of `count` shards an id belongs to: FNV-1a over the id's UTF-16 code units, so that
 * every Worker instance agrees without coordination.
 *
 * @param id the event id
 * @param count how many shards there are
 * @returns the shard, from 0 to `count - 1`
 */
export function shardOf(id: string, count: number): number {
  return fnv1a(id) % count;
}

/**
 * The name (for `idFromName`) of one shard of an object kind.
 *
 * @param prefix the driver's `prefix`, which keeps two buses on one namespace apart
 * @param kind `records` or `scheduler`
 * @param shard the shard
 * @returns the object's name
 */
export function objectName(prefix: string, kind: "records" | "scheduler", shard: number): string {
  return `${prefix}:${kind}:${shard}`;
}

/**
 * Groups items by the shard of their id.
 *
 * @param items the items
 * @param idOf the id of an item
 * @param count how many shards there are
 * @returns the items of each shard that has any, with their positions in `items`
 */
export function groupByShard<T>(
  items: readonly T[],
  idOf: (item: T) => string,
  count: number,
): Map<number, { item: T; index: number }[]> {
  const groups = new Map<number, { item: T; index: number }[]>();
  items.forEach((item, index) => {
    const shard = shardOf(idOf(item), count);
    const group = groups.get(shard) ?? [];
    group.push({ item, index });
    groups.set(shard, group);
  });
  return groups;
}
