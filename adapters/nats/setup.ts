import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { compilePattern, EdgebusError } from "../../mod.ts";
import { hasApiCode, STREAM_NAME_IN_USE, SUBJECTS_OVERLAP } from "./errors.ts";
import type { Names, Route } from "./names.ts";

/** How the streams are kept. */
export interface StreamSettings {
  readonly storage: "file" | "memory";
  /** `duplicate_window` of the event and schedule streams, ms. */
  readonly duplicateWindow: number;
  /** How long delivered events stay in the event streams, ms. */
  readonly eventsMaxAge: number;
  /** How long records stay, ms; 0 keeps them until deleted. */
  readonly recordsMaxAge: number;
}

/** A durable consumer to pull from. */
export interface ConsumerSpec {
  readonly stream: string;
  readonly durable: string;
  readonly filter: string;
}

const YEAR_AND_A_DAY = 366 * 86_400_000;

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.add(config);
    return;
  } catch (error) {
    // Another process creating the same stream at this moment makes nats-server 2.9 answer
    // "already in use" or "subjects overlap": fine as long as ours exists and takes our subjects.
    const racing = hasApiCode(error, STREAM_NAME_IN_USE) || hasApiCode(error, SUBJECTS_OVERLAP) ||
      /subjects overlap/.test(String(error));
    if (!racing) throw error;
    const info = await jsm.streams.info(config.name).catch(() => undefined);
    if (!info) throw error;
    const missing = (config.subjects ?? []).filter((s) => !info.config.subjects?.includes(s));
    if (missing.length > 0) {
      throw new EdgebusError(
        "conflict",
        `Cannot use stream ${config.name}: it exists without the subjects ${
          missing.join(", ")
        }; delete it or choose another prefix`,
      );
    }
  }
}

/**
 * Creates the driver's streams, or checks those that exist (idempotent; safe from many
 * processes at once).
 *
 * @param jsm the JetStream manager
 * @param names the derived names
 * @param settings storage and windows
 */
export async function ensureStreams(jsm: JetStreamManager, names: Names, settings: StreamSettings): Promise<void> {
  const storage = settings.storage === "memory" ? StorageType.Memory : StorageType.File;
  const common = { storage, retention: RetentionPolicy.Limits, num_replicas: 1 };
  const duplicate_window = nanos(settings.duplicateWindow);
  await Promise.all([
    ...names.routes.map((r) =>
      ensureStream(jsm, {
        ...common,
        name: r.stream,
        subjects: [`${r.base}.>`],
        duplicate_window,
        max_age: nanos(settings.eventsMaxAge),
      })
    ),
    ensureStream(jsm, {
      ...common,
      name: names.scheduleStream,
      subjects: [`${names.prefix}.sched.>`],
      duplicate_window,
    }),
    ensureStream(jsm, {
      ...common,
      name: names.recordsStream,
      subjects: [`${names.prefix}.rec.>`],
      max_msgs_per_subject: 1,
      max_age: nanos(settings.recordsMaxAge),
    }),
    ensureStream(jsm, {
      ...common,
      name: names.metaStream,
      subjects: [`${names.prefix}.meta.>`],
      max_msgs_per_subject: 1,
      max_age: nanos(YEAR_AND_A_DAY),
    }),
  ]);
}

function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(36);
}

/**
 * The consumers this process pulls from: one per event stream and consumed pattern, named by
 * the group so that processes of one group share it.
 *
 * @param names the derived names
 * @param patterns the event names this process consumes (`>` for all)
 * @returns the consumers
 */
export function consumerSpecs(names: Names, patterns: readonly string[]): ConsumerSpec[] {
  for (const p of patterns) compilePattern(p);
  return names.routes.flatMap((r: Route) =>
    patterns.map((p) => ({
      stream: r.stream,
      durable: p === ">" ? names.group : `${names.group}_${hash(p)}`,
      filter: `${r.base}.${p}`,
    }))
  );
}

/**
 * Creates a durable pull consumer, or checks it (idempotent).
 *
 * @param jsm the JetStream manager
 * @param spec which stream, name and filter
 * @param ackWait ms before an unacknowledged message is redelivered
 * @param maxAckPending how many messages may be unacknowledged at once
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  spec: ConsumerSpec,
  ackWait: number,
  maxAckPending: number,
): Promise<void> {
  const config = {
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: spec.filter,
    ack_wait: nanos(ackWait),
    max_deliver: -1,
    max_ack_pending: maxAckPending,
  };
  try {
    await jsm.consumers.add(spec.stream, config);
  } catch (error) {
    // Another process of the group may be creating it at this moment, or made it with other
    // timings: what matters is that it exists and takes the same subjects.
    const info = await jsm.consumers.info(spec.stream, spec.durable).catch(() => undefined);
    if (!info) throw error;
    if (info.config.filter_subject !== spec.filter) {
      throw new EdgebusError(
        "conflict",
        `Cannot use consumer ${spec.durable} on ${spec.stream}: it exists with the filter ${
          String(info.config.filter_subject)
        }, not ${spec.filter}`,
      );
    }
  }
}
