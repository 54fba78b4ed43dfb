import {
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  RetentionPolicy,
  StorageType,
  type StoredMsg,
} from "@nats-io/jetstream";
import { EdgebusError } from "../../mod.ts";
import {
  DEFAULT_LIST_LIMIT,
  type Page,
  replaceSchedule,
  sameSpec,
  type Schedule,
  type ScheduleQuery,
  type ScheduleStore,
} from "../../driver/mod.ts";
import { hasApiCode, STREAM_NAME_IN_USE, WRONG_LAST_SEQUENCE } from "./errors.ts";
import { idOfToken, idToken, type Names } from "./names.ts";
import type { WithJs } from "./store.ts";

/** Where schedules live: one message per schedule subject, and the firing cursor. */
export interface CronNames {
  /** `<PREFIX>_CRON`. */
  readonly stream: string;
  /** Every schedule: `<prefix>.cron.s.*`. */
  readonly all: string;
  /** How far the lease holder has fired ticks: `<prefix>.cron.cursor`. */
  readonly cursor: string;
  /** Every last-tick message: `<prefix>.cron.last.*`. */
  readonly lasts: string;
  /** The subject of one schedule. */
  subject(id: string): string;
  /** The subject of the event id of a schedule's last tick published (kept for `overlap: "skip"`). */
  last(id: string): string;
}

/**
 * The names of the schedules' stream and subjects.
 *
 * @param names the driver's names
 * @returns the schedules' names
 */
export function cronNames(names: Names): CronNames {
  const base = `${names.prefix}.cron`;
  return {
    stream: `${names.prefix.toUpperCase()}_CRON`,
    all: `${base}.s.*`,
    cursor: `${base}.cursor`,
    lasts: `${base}.last.*`,
    subject: (id) => `${base}.s.${idToken(id)}`,
    last: (id) => `${base}.last.${idToken(id)}`,
  };
}

/** A deleted schedule's last message: watchers learn of the deletion from it. */
interface Tombstone {
  readonly id: string;
  readonly deleted: number;
}

const encoder = new TextEncoder();

/**
 * The schedule a message holds, or `undefined` for a deletion.
 *
 * @param msg a message of the schedules' stream
 * @returns the schedule
 */
export function scheduleOf(msg: Pick<StoredMsg | JsMsg, "json"> | null | undefined): Schedule | undefined {
  const value = msg?.json<Schedule | Tombstone>();
  return value && !("deleted" in value) ? value : undefined;
}

/**
 * The schedule id of a message's subject.
 *
 * @param subject the subject
 * @returns the id
 */
export function idOfSubject(subject: string): string {
  return idOfToken(subject.slice(subject.lastIndexOf(".") + 1));
}

/**
 * Reads every schedule once, with an ordered consumer from the start of the stream.
 *
 * @param client the JetStream client
 * @param jsm the JetStream manager
 * @param cron the schedules' names
 * @returns the live schedules by id
 */
export async function readSchedules(
  client: JetStreamClient,
  jsm: JetStreamManager,
  cron: CronNames,
): Promise<Map<string, Schedule>> {
  const found = new Map<string, Schedule>();
  if (!(await jsm.direct.getMessage(cron.stream, { next_by_subj: cron.all, seq: 0 }))) return found;
  const consumer = await client.consumers.get(cron.stream, { filter_subjects: cron.all });
  const messages = await consumer.consume({ max_messages: 1_000 });
  for await (const msg of messages) {
    const schedule = scheduleOf(msg);
    if (schedule) found.set(schedule.id, schedule);
    else found.delete(idOfSubject(msg.subject));
    if (msg.info.pending === 0) break;
  }
  await messages.close();
  return found;
}

/** Options of {@linkcode natsScheduleStore}. */
export interface NatsScheduleOptions {
  readonly names: Names;
  readonly js: WithJs;
  readonly storage: "file" | "memory";
  /** Copies of the stream (the driver's `replicas`). */
  readonly replicas?: number;
  readonly now: () => number;
}

/**
 * Schedules in JetStream: one message per schedule subject in `<PREFIX>_CRON` (a deletion leaves
 * a small tombstone, so that the firing process learns of it), changed only by compare-and-set on
 * the subject's last sequence, so that processes declaring at once agree. The stream is made on
 * first use.
 *
 * @param options names, JetStream access, storage, clock
 * @returns the store (without `start`: the driver adds the firing)
 */
export function natsScheduleStore(options: NatsScheduleOptions): Omit<ScheduleStore, "start"> {
  const { names, js, storage, replicas = 1 } = options;
  const cron = cronNames(names);
  let ready: Promise<void> | undefined;

  const ensure = (jsm: JetStreamManager): Promise<void> =>
    ready ??= jsm.streams.add({
      name: cron.stream,
      subjects: [cron.all, cron.cursor, cron.lasts],
      storage: storage === "memory" ? StorageType.Memory : StorageType.File,
      retention: RetentionPolicy.Limits,
      max_msgs_per_subject: 1,
      num_replicas: replicas,
      allow_direct: true,
    }).then(() => {}, async (error) => {
      // Made already (by another process, or before): fine once it exists.
      if (!hasApiCode(error, STREAM_NAME_IN_USE) || !(await jsm.streams.info(cron.stream).catch(() => undefined))) {
        ready = undefined;
        throw error;
      }
    });
  const withCron = <T>(fn: (client: JetStreamClient, jsm: JetStreamManager) => Promise<T>): Promise<T> =>
    js(async (client, jsm) => {
      await ensure(jsm);
      return await fn(client, jsm);
    });

  const read = async (jsm: JetStreamManager, id: string): Promise<{ schedule?: Schedule; seq: number }> => {
    const msg = await jsm.direct.getMessage(cron.stream, { last_by_subj: cron.subject(id) });
    return { schedule: scheduleOf(msg), seq: msg?.seq ?? 0 };
  };

  /** Writes `change(current)` by compare-and-set, reading again when another process wrote first. */
  const update = <T>(
    id: string,
    change: (current: Schedule | undefined) => { write?: Schedule | Tombstone; answer: T },
  ): Promise<T> =>
    withCron(async (client, jsm) => {
      for (let tries = 0; tries < 20; tries++) {
        const { schedule, seq } = await read(jsm, id);
        const { write, answer } = change(schedule);
        if (!write) return answer;
        try {
          await client.publish(cron.subject(id), encoder.encode(JSON.stringify(write)), {
            expect: { lastSubjectSequence: seq },
          });
          return answer;
        } catch (error) {
          if (!hasApiCode(error, WRONG_LAST_SEQUENCE)) throw error;
        }
      }
      throw new EdgebusError("conflict", `Cannot change schedule "${id}": it kept changing under the write`);
    });

  return {
    declare: (schedule) =>
      update(
        schedule.id,
        (stored) =>
          stored && sameSpec(stored, schedule)
            ? { answer: "unchanged" as const }
            : stored
            ? { write: replaceSchedule(stored, schedule), answer: "replaced" as const }
            : { write: schedule, answer: "created" as const },
      ),
    get: (id) => withCron(async (_, jsm) => (await read(jsm, id)).schedule),
    list: (query: ScheduleQuery): Promise<Page<Schedule>> =>
      withCron(async (client, jsm) => {
        const { limit = DEFAULT_LIST_LIMIT, cursor } = query;
        const all = await readSchedules(client, jsm, cron);
        const ids = [...all.keys()].filter((id) => cursor === undefined || id > cursor).sort();
        const items = ids.slice(0, limit).map((id) => all.get(id)!);
        return ids.length > limit ? { items, cursor: items[items.length - 1].id } : { items };
      }),
    setPaused: (id, paused, at) =>
      update(id, (stored) => {
        if (!stored || stored.paused === paused) return { answer: stored };
        const next = { ...stored, paused, updatedAt: at, ...(paused ? {} : { since: at }) };
        return { write: next, answer: next };
      }),
    delete: (id) =>
      update(id, (stored) => stored ? { write: { id, deleted: options.now() }, answer: true } : { answer: false }),
  };
}
