import {
  assertScheduleId,
  DEFAULT_LIST_LIMIT,
  type Page,
  type Schedule,
  type ScheduleQuery,
  type ScheduleStore,
} from "../../driver/mod.ts";
import type { PublishConfig } from "./schedules_table.ts";
import { shardOf } from "./shard.ts";

/** Calls a method of one scheduler object shard. */
export type CallScheduler = <T>(shard: number, method: string, ...args: unknown[]) => Promise<T>;

/**
 * The Cloudflare driver's schedules: each lives in the `EdgebusScheduler` object of its shard (a
 * hash of the schedule id), whose alarm publishes its ticks; nothing is added to `wrangler.toml`.
 * The driver's options travel with each declaration, so that the object publishes ticks as this
 * driver would (same queues, routes, records).
 *
 * @param call calls a scheduler object
 * @param shards how many scheduler objects there are
 * @param config the driver options the objects publish with
 * @returns the schedule store (without `start`: alarms fire the ticks)
 */
export function cloudflareSchedules(call: CallScheduler, shards: number, config: PublishConfig): ScheduleStore {
  const shardOfId = (id: string): number => shardOf(assertScheduleId(id), shards);
  return {
    declare: (schedule) => call(shardOfId(schedule.id), "declareSchedule", schedule, config),
    get: async (id) => (await call<Schedule | null>(shardOfId(id), "getSchedule", id)) ?? undefined,
    async list(query: ScheduleQuery): Promise<Page<Schedule>> {
      const { limit = DEFAULT_LIST_LIMIT, cursor } = query;
      const pages = await Promise.all(
        Array.from({ length: shards }, (_, shard) => call<Schedule[]>(shard, "listSchedules", cursor ?? null, limit)),
      );
      const all = pages.flat().sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
      const items = all.slice(0, limit);
      return all.length > limit ? { items, cursor: items[items.length - 1].id } : { items };
    },
    setPaused: async (id, paused, at) =>
      (await call<Schedule | null>(shardOfId(id), "pauseSchedule", id, paused, at)) ?? undefined,
    delete: (id) => call<boolean>(shardOfId(id), "deleteSchedule", id),
  };
}
