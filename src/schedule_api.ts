import type { Driver, Page, ScheduleStore } from "./driver.ts";
import { createEnvelope } from "./envelope.ts";
import { EdgebusError } from "./errors.ts";
import type { Json } from "./json.ts";
import type { Bus } from "./types.ts";
import { assertQuery } from "./query.ts";
import { AHEAD_LIMIT } from "./schedule_fire.ts";
import type { CronCache } from "./schedule_plan.ts";
import {
  assertScheduleId,
  makeSchedule,
  type Schedule,
  type ScheduleInfo,
  type ScheduleOptions,
  type ScheduleQuery,
  tickId,
} from "./schedules.ts";
import { type StandardSchemaV1, validateBody } from "./schema.ts";
import { transport } from "./transport.ts";

/** What `bus.schedule` did: the schedule as stored, and whether it changed. */
export interface ScheduleDeclared extends ScheduleInfo {
  /** `created`, `replaced` (another spec was stored under the id) or `unchanged` (the same spec was). */
  readonly change: "created" | "replaced" | "unchanged";
}

/** The schedules of a bus: `bus.schedules`. */
export interface Schedules {
  /** Schedules by id, paged (`limit` 1 to 1000, default 50). */
  list(query?: ScheduleQuery): Promise<Page<ScheduleInfo>>;
  /** The schedule of `id`, with its next tick, or `undefined`. */
  get(id: string): Promise<ScheduleInfo | undefined>;
  /** Stops publishing its ticks; true when the schedule exists. */
  pause(id: string): Promise<boolean>;
  /** Publishes its ticks again, from now on (ticks while paused are not caught up); true when it exists. */
  resume(id: string): Promise<boolean>;
  /** Removes the schedule; true when there was one. */
  delete(id: string): Promise<boolean>;
}

/** What the bus's schedules need from it. */
export interface ScheduleDeps {
  readonly driver: Driver;
  readonly schemas: Readonly<Record<string, StandardSchemaV1>>;
  readonly now: () => number;
  readonly cache: CronCache;
  /** Starts a driver that starts itself (the memory driver's timers run from the first declaration). */
  readonly autoStart: () => Promise<void> | undefined;
  /** Cancels a delayed event (a tick published ahead of its time). */
  readonly cancel: (id: string) => Promise<boolean>;
}

/** `bus.schedule` and `bus.schedules`, as the bus has them. */
export type ScheduleApi = Pick<Bus, "schedule" | "schedules">;

/**
 * Makes the bus's schedule calls: everything is checked when a schedule is declared (id,
 * expression, zone, policies, and the name and body as a publish would check them, schema
 * included) before the driver stores anything.
 *
 * @param deps the driver, schemas, clock and expression cache
 * @returns `schedule` and `schedules`
 */
export function createScheduleApi(deps: ScheduleDeps): ScheduleApi {
  const { driver, schemas, now, cache } = deps;

  const store = (): ScheduleStore => {
    if (!driver.schedules) {
      throw new EdgebusError("invalid_option", "Cannot use schedules: this bus's driver keeps none");
    }
    return driver.schedules;
  };
  const info = (schedule: Schedule): ScheduleInfo => {
    if (schedule.paused) return schedule;
    const next = cache.times(schedule).next(Math.max(now(), schedule.since));
    return next === undefined ? schedule : { ...schedule, next };
  };
  const checkedId = (id: string): string => assertScheduleId(id);

  async function checkedBody(id: string, name: string, body: unknown): Promise<Json> {
    try {
      const schema = typeof name === "string" ? schemas[name] : undefined;
      const value = schema ? await validateBody(name, schema, body) : body;
      const envelope = createEnvelope({ name, body: value, id: tickId(id, now()) }, now(), () => "");
      return envelope.body;
    } catch (error) {
      if (!(error instanceof EdgebusError)) throw error;
      throw new EdgebusError(error.code, `Cannot schedule "${id}": ${error.message}`, { cause: error });
    }
  }

  const schedule = async (
    id: string,
    cron: string,
    name: string,
    body?: unknown,
    options: ScheduleOptions = {},
  ): Promise<ScheduleDeclared> => {
    const target = store();
    assertScheduleId(id);
    const declared = makeSchedule(id, cron, name, await checkedBody(id, name, body), options, now());
    const change = await transport(`store schedule "${id}"`, () => target.declare(declared));
    const starting = deps.autoStart();
    if (starting) await starting;
    const stored = await transport(`read schedule "${id}"`, () => target.get(id));
    return { ...info(stored ?? declared), change };
  };

  /** Ticks a driver published ahead of their time (see `AHEAD_LIMIT`) are taken back: the schedule stopped. */
  const cancelAhead = async (schedule: Schedule): Promise<void> => {
    const times = cache.times(schedule);
    const at = now();
    const ids: string[] = [];
    for (let t = times.next(at); t !== undefined && t <= at + AHEAD_LIMIT; t = times.next(t)) {
      ids.push(tickId(schedule.id, t));
    }
    await Promise.all(ids.map((tick) => deps.cancel(tick).catch(() => false)));
  };

  const setPaused = async (id: string, paused: boolean): Promise<boolean> => {
    checkedId(id);
    const target = store();
    const schedule = await transport(
      `${paused ? "pause" : "resume"} schedule "${id}"`,
      () => target.setPaused(id, paused, now()),
    );
    if (schedule && paused) await cancelAhead(schedule);
    return schedule !== undefined;
  };

  const schedules: Schedules = {
    async list(query = {}) {
      assertQuery({ limit: query.limit });
      if (query.cursor !== undefined) checkedId(query.cursor);
      const target = store();
      const page = await transport("list the schedules", () => target.list(query));
      return { ...page, items: page.items.map(info) };
    },
    async get(id) {
      checkedId(id);
      const target = store();
      const found = await transport(`read schedule "${id}"`, () => target.get(id));
      return found && info(found);
    },
    pause: (id) => setPaused(id, true),
    resume: (id) => setPaused(id, false),
    async delete(id) {
      checkedId(id);
      const target = store();
      const schedule = await transport(`read schedule "${id}"`, () => target.get(id));
      const deleted = await transport(`delete schedule "${id}"`, () => target.delete(id));
      if (schedule && !schedule.paused) await cancelAhead(schedule);
      return deleted;
    },
  };

  return { schedule, schedules };
}
