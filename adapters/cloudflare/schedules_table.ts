import { type Bus, createBus } from "../../mod.ts";
import {
  cronCache,
  type FireTicks,
  replaceSchedule,
  sameSpec,
  type Schedule,
  type ScheduleProgress,
  tickFirer,
} from "../../driver/mod.ts";
import { cloudflareDriver, type CloudflareDriverOptions } from "./driver.ts";
import type { SqlStorageLike, WorkerEnv } from "./platform.ts";

/** The driver options an object needs to publish ticks as the application's driver would. */
export type PublishConfig = Omit<CloudflareDriverOptions, "env" | "now">;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS schedules (
    id TEXT PRIMARY KEY, spec TEXT NOT NULL, next INTEGER, last INTEGER, last_event TEXT)`,
  "CREATE INDEX IF NOT EXISTS schedules_by_next ON schedules (next)",
  "CREATE TABLE IF NOT EXISTS schedules_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
];
/** Due schedules fired per round of an alarm (their ticks go out 16 batches at a time), and rounds per alarm. */
const ROUND = 5_000;
const ROUNDS = 4;
const RETRY_MS = 1_000;
/**
 * Ticks are published this many ms ahead, due at their time, through the scheduler objects
 * (exact to the millisecond): records are written ahead, and at the tick only the queue send is
 * left, so that thousands of ticks at once run on time.
 */
const LEAD = 2_000;

/** A page of schedules of one object, by id. */
export interface SchedulePage {
  /** The schedules after the cursor, at most the limit plus one (so the caller knows more follow). */
  readonly items: Schedule[];
}

/**
 * The schedules kept by one `EdgebusScheduler` object, in its SQLite: each row holds the spec,
 * the next tick (indexed: the object's alarm is armed at the earliest of its delayed rows and its
 * next ticks) and the progress (the last tick handled, and the last tick's event for
 * `overlap: "skip"`). The alarm publishes due ticks through a bus of the object's own, made with
 * the driver options the application's driver sent with its last declaration, so ticks are
 * recorded and queued exactly as a publish from the Worker is; the tick's event id makes a tick
 * sent again (an alarm retried after an eviction) one event.
 */
export class ScheduleTable {
  readonly #sql: SqlStorageLike;
  readonly #env: WorkerEnv;
  readonly #cache = cronCache();
  #bus?: { config: string; bus: Bus; fire: FireTicks };

  /**
   * Opens the tables.
   *
   * @param sql the object's SQLite
   * @param env the Worker's environment (queues and objects to publish with)
   */
  constructor(sql: SqlStorageLike, env: WorkerEnv) {
    this.#sql = sql;
    this.#env = env;
    for (const statement of SCHEMA) sql.exec(statement);
  }

  /**
   * When to fire a schedule next (the `next` column): `LEAD` before its first tick not handled
   * yet, or at the tick for `overlap: "skip"` and a tick too close to publish ahead (in the past
   * after an outage: the alarm then fires at once).
   */
  #nextOf(schedule: Schedule, last: number | null, now = Date.now()): number | null {
    if (schedule.paused) return null;
    const tick = this.#cache.times(schedule).next(Math.max(schedule.since, last ?? -Infinity));
    return tick === undefined ? null : wakeOf(schedule, tick, now);
  }

  #row(id: string): { schedule: Schedule; last: number | null } | undefined {
    const [row] = this.#sql.exec("SELECT spec, last FROM schedules WHERE id = ?", id).toArray();
    return row ? { schedule: JSON.parse(row.spec as string), last: row.last as number | null } : undefined;
  }

  #write(schedule: Schedule, last: number | null, lastEvent: string | null): void {
    this.#sql.exec(
      "INSERT OR REPLACE INTO schedules (id, spec, next, last, last_event) VALUES (?, ?, ?, ?, ?)",
      schedule.id,
      JSON.stringify(schedule),
      this.#nextOf(schedule, last),
      last,
      lastEvent,
    );
  }

  /** Stores a schedule unless the same spec is stored; keeps the config to publish with. */
  declare(schedule: Schedule, config: PublishConfig): "created" | "replaced" | "unchanged" {
    this.#sql.exec(
      "INSERT OR REPLACE INTO schedules_meta (key, value) VALUES ('config', ?)",
      JSON.stringify(config),
    );
    const stored = this.#row(schedule.id)?.schedule;
    if (stored && sameSpec(stored, schedule)) return "unchanged";
    this.#write(stored ? replaceSchedule(stored, schedule) : schedule, null, null);
    return stored ? "replaced" : "created";
  }

  /** The schedule of `id`. */
  get(id: string): Schedule | undefined {
    return this.#row(id)?.schedule;
  }

  /** Schedules after `cursor` by id, `limit + 1` at most. */
  list(cursor: string | null, limit: number): Schedule[] {
    return this.#sql.exec(
      "SELECT spec FROM schedules WHERE id > ? ORDER BY id LIMIT ?",
      cursor ?? "",
      limit + 1,
    ).toArray().map((row) => JSON.parse(row.spec as string));
  }

  /** Pauses or resumes (a resume counts ticks from `at`). */
  setPaused(id: string, paused: boolean, at: number): Schedule | undefined {
    const row = this.#row(id);
    if (!row || row.schedule.paused === paused) return row?.schedule;
    const schedule = { ...row.schedule, paused, updatedAt: at, ...(paused ? {} : { since: at }) };
    this.#write(schedule, paused ? row.last : null, null);
    return schedule;
  }

  /** Removes a schedule. */
  delete(id: string): boolean {
    return this.#sql.exec("DELETE FROM schedules WHERE id = ?", id).rowsWritten > 0;
  }

  /** When a schedule is next fired, the earliest, or null. */
  nextTick(): number | null {
    const [row] = this.#sql.exec("SELECT MIN(next) AS next FROM schedules").toArray();
    return (row?.next as number | null | undefined) ?? null;
  }

  #fire(): FireTicks | undefined {
    const [row] = this.#sql.exec("SELECT value FROM schedules_meta WHERE key = 'config'").toArray();
    if (!row) return undefined;
    const config = row.value as string;
    if (this.#bus?.config !== config) {
      // Every delayed event (a tick published ahead) waits in a scheduler object: exact to the ms.
      const options = { ...JSON.parse(config), maxQueueDelay: 0, env: this.#env };
      const bus = createBus({ driver: cloudflareDriver(options) });
      this.#bus = { config, bus, fire: tickFirer(bus, this.#cache) };
    }
    return this.#bus.fire;
  }

  /** Publishes the due ticks (a few rounds); true when more may be due. */
  async fireDue(now: number): Promise<boolean> {
    const fire = this.#fire();
    if (!fire) return false;
    for (let round = 0; round < ROUNDS; round++) {
      const rows = this.#sql.exec(
        "SELECT spec, last, last_event FROM schedules WHERE next <= ? ORDER BY next LIMIT ?",
        now,
        ROUND,
      ).toArray();
      if (rows.length === 0) return false;
      const due = rows.map((row) => {
        const schedule = JSON.parse(row.spec as string) as Schedule;
        const progress: ScheduleProgress | undefined = row.last === null ? undefined : {
          last: row.last as number,
          ...(row.last_event === null ? {} : { lastEvent: row.last_event as string }),
        };
        return { schedule, progress, spec: row.spec as string };
      });
      const fired = await fire(due, now, LEAD);
      fired.forEach((result, i) => {
        const { schedule, spec } = due[i];
        const next = result.error !== undefined
          ? now + RETRY_MS
          : result.next === undefined
          ? null
          : wakeOf(schedule, result.next, now);
        // Only if the spec is still the one fired: a declaration meanwhile decides.
        this.#sql.exec(
          "UPDATE schedules SET last = ?, last_event = ?, next = ? WHERE id = ? AND spec = ?",
          result.progress.last,
          result.progress.lastEvent ?? null,
          next,
          schedule.id,
          spec,
        );
      });
      if (rows.length < ROUND) return false;
    }
    return true;
  }
}

function wakeOf(schedule: Schedule, tick: number, now: number): number {
  return schedule.overlap === "skip" || tick - LEAD <= now ? tick : tick - LEAD;
}
