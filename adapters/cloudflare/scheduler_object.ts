import { type Outgoing, sendAll } from "./message.ts";
import type { DurableObjectStateLike, QueueBinding, SqlStorageLike, WorkerEnv } from "./platform.ts";
import { ObjectBase } from "./object_base.ts";
import { serveObject } from "./rpc.ts";
import type { Schedule } from "../../driver/mod.ts";
import { type PublishConfig, ScheduleTable } from "./schedules_table.ts";

/** A delayed message, as the driver hands it to the scheduler. */
export interface ScheduledRow {
  /** The event id: scheduling it again replaces the row. */
  readonly id: string;
  /** When to send it, epoch ms. */
  readonly due: number;
  /** The Queue producer binding to send it with. */
  readonly queue: string;
  /** The message body, as JSON. */
  readonly message: string;
  /** Its size in bytes. */
  readonly bytes: number;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS scheduled (
    id TEXT PRIMARY KEY, due INTEGER NOT NULL, queue TEXT NOT NULL, message TEXT NOT NULL, bytes INTEGER NOT NULL)`,
  "CREATE INDEX IF NOT EXISTS scheduled_by_due ON scheduled (due)",
];
/** Rows read per round of an alarm; an alarm sends a few rounds, then comes back. */
const ROUND = 200;
const ROUNDS = 8;
const RETRY_AFTER_FAILURE = 5_000;

/**
 * The Durable Object that holds events due later than Queues can delay them (and the ones sent
 * to it on purpose), in SQLite, indexed by due time. It keeps one alarm armed at its earliest
 * row; the alarm sends every due row with `sendBatch` within Queues' limits, deletes what was
 * sent and arms itself for the next row. Rows that fell due while the object was evicted go
 * out at the next alarm or the next call, whichever comes first. Events are spread over
 * several of these objects by a hash of their id. Schedules (`bus.schedule`) are kept here too,
 * spread the same way by schedule id: the same alarm publishes their due ticks.
 *
 * @example Re-export from the Worker
 * ```ts ignore
 * export { EdgebusScheduler, EdgebusStore } from "edgebus/cloudflare";
 * ```
 */
export class EdgebusScheduler extends ObjectBase {
  readonly #state: DurableObjectStateLike;
  readonly #sql: SqlStorageLike;
  readonly #env: WorkerEnv;
  readonly #schedules: ScheduleTable;

  /**
   * Opens the table and re-arms the alarm; the platform calls it.
   *
   * @param state the object's state, from the platform
   * @param env the Worker's environment, which holds the Queue producers
   */
  constructor(state: DurableObjectStateLike, env: WorkerEnv) {
    super(state, env);
    this.#state = state;
    this.#sql = state.storage.sql;
    this.#env = env;
    for (const statement of SCHEMA) this.#sql.exec(statement);
    this.#schedules = new ScheduleTable(this.#sql, env);
    // Waking up (after an eviction, say) re-arms the alarm, so rows whose alarm was lost and
    // that fell due meanwhile go out now rather than never.
    void state.blockConcurrencyWhile(() => this.#arm());
  }

  /**
   * Answers calls that come as JSON over `fetch` (a driver of an older release); the driver
   * calls the methods below through Workers RPC.
   *
   * @param request a call from the driver
   * @returns the answer
   */
  fetch(request: Request): Promise<Response> {
    return serveObject(request, {
      schedule: (rows: ScheduledRow[]) => this.schedule(rows),
      cancel: (id: string) => this.cancel(id),
      pending: () => this.pending(),
      declareSchedule: (schedule: Schedule, config: PublishConfig) => this.declareSchedule(schedule, config),
      getSchedule: (id: string) => this.getSchedule(id) ?? null,
      listSchedules: (cursor: string | null, limit: number) => this.listSchedules(cursor, limit),
      pauseSchedule: (id: string, paused: boolean, at: number) => this.pauseSchedule(id, paused, at) ?? null,
      deleteSchedule: (id: string) => this.deleteSchedule(id),
    });
  }

  /** Stores a schedule (see `bus.schedule`) and arms the alarm for its next tick. */
  async declareSchedule(schedule: Schedule, config: PublishConfig): Promise<"created" | "replaced" | "unchanged"> {
    const change = this.#schedules.declare(schedule, config);
    await this.#arm();
    return change;
  }

  /** A schedule kept here. */
  getSchedule(id: string): Schedule | undefined {
    return this.#schedules.get(id);
  }

  /** Schedules kept here after `cursor`, by id: `limit + 1` at most. */
  listSchedules(cursor: string | null, limit: number): Schedule[] {
    return this.#schedules.list(cursor, limit);
  }

  /** Pauses or resumes a schedule. */
  async pauseSchedule(id: string, paused: boolean, at: number): Promise<Schedule | undefined> {
    const schedule = this.#schedules.setPaused(id, paused, at);
    await this.#arm();
    return schedule;
  }

  /** Removes a schedule. */
  async deleteSchedule(id: string): Promise<boolean> {
    const deleted = this.#schedules.delete(id);
    await this.#arm();
    return deleted;
  }

  /** Stores delayed messages and keeps the alarm at the earliest. */
  async schedule(rows: readonly ScheduledRow[]): Promise<void> {
    this.#state.storage.transactionSync(() => {
      for (const row of rows) {
        this.#sql.exec(
          "INSERT OR REPLACE INTO scheduled (id, due, queue, message, bytes) VALUES (?, ?, ?, ?, ?)",
          row.id,
          row.due,
          row.queue,
          row.message,
          row.bytes,
        );
      }
    });
    await this.#arm();
  }

  /** Removes a delayed message; true when it was still here. */
  async cancel(id: string): Promise<boolean> {
    const removed = this.#sql.exec("DELETE FROM scheduled WHERE id = ?", id).rowsWritten > 0;
    await this.#arm();
    return removed;
  }

  /** How many messages wait here. */
  pending(): number {
    const [row] = this.#sql.exec("SELECT COUNT(*) AS n FROM scheduled").toArray();
    return Number(row?.n ?? 0);
  }

  /** Sends what is due and arms the alarm for what is left. */
  async alarm(): Promise<void> {
    try {
      for (let round = 0; round < ROUNDS && await this.#sendDue(); round++);
      await this.#schedules.fireDue(Date.now());
      await this.#arm();
    } catch (error) {
      // Unsent rows stay; try again shortly rather than waiting for the platform's backoff.
      console.error("edgebus: the scheduler could not send due events", error);
      await this.#state.storage.setAlarm(Date.now() + RETRY_AFTER_FAILURE);
    }
  }

  /** Sends one round of due rows; true when a full round was sent (more may be due). */
  async #sendDue(): Promise<boolean> {
    const now = Date.now();
    const rows = this.#sql.exec(
      "SELECT id, queue, message, bytes FROM scheduled WHERE due <= ? ORDER BY due LIMIT ?",
      now,
      ROUND,
    ).toArray();
    const byQueue = new Map<string, { id: string; out: Outgoing }[]>();
    for (const row of rows) {
      const group = byQueue.get(row.queue as string) ?? [];
      group.push({
        id: row.id as string,
        out: { body: JSON.parse(row.message as string), bytes: row.bytes as number, delaySeconds: 0 },
      });
      byQueue.set(row.queue as string, group);
    }
    for (const [name, group] of byQueue) {
      const queue = this.#env[name] as QueueBinding | undefined;
      if (typeof queue?.sendBatch !== "function") throw new Error(`The Queue producer binding "${name}" is missing`);
      await sendAll(queue, group.map((g) => g.out));
      this.#state.storage.transactionSync(() => {
        // A row scheduled again for later while this batch was in flight stays.
        for (const { id } of group) this.#sql.exec("DELETE FROM scheduled WHERE id = ? AND due <= ?", id, now);
      });
    }
    return rows.length === ROUND;
  }

  async #arm(): Promise<void> {
    const [row] = this.#sql.exec("SELECT MIN(due) AS due FROM scheduled").toArray();
    const due = row?.due as number | null | undefined;
    const tick = this.#schedules.nextTick();
    const next = due === null || due === undefined ? tick : tick === null ? due : Math.min(due, tick);
    const storage = this.#state.storage;
    if (next === null || next === undefined) return await storage.deleteAlarm();
    if ((await storage.getAlarm()) !== next) await storage.setAlarm(next);
  }
}
