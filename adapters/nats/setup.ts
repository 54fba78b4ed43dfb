import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { EdgebusError } from "../../mod.ts";
import { hasApiCode, STREAM_NAME_IN_USE, SUBJECTS_OVERLAP } from "./errors.ts";
import { keyToken, type Names, type Route } from "./names.ts";

/** How the streams are kept. */
export interface StreamSettings {
  readonly storage: "file" | "memory";
  /** `duplicate_window` of the event and schedule streams, ms. */
  readonly duplicateWindow: number;
  /** How long events (and their outcomes) stay, ms. */
  readonly eventsMaxAge: number;
  /** Copies of every stream and durable consumer (1 to 5; a cluster has at least that many servers). */
  readonly replicas: number;
}

/** What a handler's durable consumer says of itself, in its description. */
export interface ConsumerNote {
  /** The handler key (the handler id, with the group unless it is `default`). */
  readonly handler: string;
  /** The name or pattern it handles. */
  readonly pattern: string;
}

/** A handler's durable consumers on one event stream: new events, and its own retries. */
export interface ConsumerSpec {
  readonly route: Route;
  readonly key: string;
  readonly pattern: string;
  readonly events: string;
  readonly retries: string;
}

const YEAR_AND_A_DAY = 366 * 86_400_000;

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.add(config);
    return;
  } catch (error) {
    // Another process creating the same stream at this moment makes nats-server 2.9 answer
    // "already in use" or "subjects overlap": fine as long as ours exists and takes our subjects.
    // The same answer comes for a stream made before with other settings, which is checked here.
    const racing = hasApiCode(error, STREAM_NAME_IN_USE) || hasApiCode(error, SUBJECTS_OVERLAP) ||
      /subjects overlap/.test(String(error));
    if (!racing) throw refusedStream(config, error);
    const info = await jsm.streams.info(config.name).catch(() => undefined);
    if (!info) throw error;
    checkStream(config, info.config);
    if (config.allow_direct && !info.config.allow_direct) {
      // Reads are direct gets: a stream made without them (by hand, say) is given them.
      await jsm.streams.update(config.name, { ...info.config, allow_direct: true });
    }
  }
}

/**
 * Refuses to use an existing stream whose layout, copies or storage differ from what this
 * driver asks for: using it would silently keep fewer copies (or other data) than configured,
 * and changing it is the operator's decision.
 */
function checkStream(wanted: Partial<StreamConfig> & { name: string }, found: StreamConfig): void {
  const missing = (wanted.subjects ?? []).filter((s) => !found.subjects?.includes(s));
  if (missing.length > 0) {
    throw new EdgebusError(
      "conflict",
      `Cannot use stream ${wanted.name}: it exists without the subjects ${
        missing.join(", ")
      } (streams of edgebus 0.1 have another layout: see the README's upgrade note, or choose another prefix)`,
    );
  }
  const differ = (["num_replicas", "storage"] as const).filter((k) =>
    wanted[k] !== undefined && (found[k] ?? 1) !== wanted[k]
  );
  if (differ.length === 0) return;
  const what = differ.map((k) => `${k} ${String(found[k])}, not ${String(wanted[k])}`).join(" and ");
  throw new EdgebusError(
    "conflict",
    `Cannot use stream ${wanted.name}: it exists with ${what}. edgebus neither uses nor changes a stream set up ` +
      `otherwise: change it yourself (\`nats stream edit ${wanted.name} --replicas ${
        String(wanted.num_replicas)
      }\`; storage cannot be edited), delete it (its events are lost), or pass the driver options that match it`,
  );
}

/** A failed stream creation, explained when the cluster is too small for the replicas asked for. */
function refusedStream(config: Partial<StreamConfig> & { name: string }, error: unknown): unknown {
  const replicas = config.num_replicas ?? 1;
  const reason = error instanceof Error ? error.message : String(error);
  if (replicas > 1 && /replicas|insufficient resources|clustered|no suitable peers/i.test(reason)) {
    return new EdgebusError(
      "conflict",
      `Cannot create stream ${config.name} with ${replicas} replicas: ${reason}. Replicas need a JetStream ` +
        `cluster of at least ${replicas} servers that are up; on a single server pass \`replicas: 1\``,
      { cause: error },
    );
  }
  return error;
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
  const common = {
    storage,
    retention: RetentionPolicy.Limits,
    num_replicas: settings.replicas,
    allow_direct: true,
  };
  const duplicate_window = nanos(settings.duplicateWindow);
  const p = names.prefix;
  await Promise.all([
    ...names.routes.map((r) =>
      ensureStream(jsm, {
        ...common,
        name: r.stream,
        subjects: [`${r.events}.*`, `${r.retries}.*.*`],
        duplicate_window,
        max_age: nanos(settings.eventsMaxAge),
      })
    ),
    ensureStream(jsm, { ...common, name: names.scheduleStream, subjects: [`${p}.sched.>`], duplicate_window }),
    ensureStream(jsm, {
      ...common,
      name: names.delayedStream,
      subjects: [`${p}.dl.*`],
      duplicate_window,
      max_age: nanos(YEAR_AND_A_DAY + settings.eventsMaxAge),
    }),
    ensureStream(jsm, {
      ...common,
      name: names.outcomesStream,
      subjects: [`${p}.out.*`],
      max_msgs_per_subject: 1,
      max_age: nanos(settings.eventsMaxAge),
    }),
    ensureStream(jsm, { ...common, name: names.deadStream, subjects: [`${p}.dead.*`], max_msgs_per_subject: 1 }),
    ensureStream(jsm, {
      ...common,
      name: names.metaStream,
      subjects: [`${p}.meta.>`],
      max_msgs_per_subject: 1,
      max_age: nanos(YEAR_AND_A_DAY),
    }),
  ]);
}

/**
 * The handler key of a handler id: ids are the application's, so another service's handlers
 * with the same ids are told apart by its group.
 *
 * @param group the driver's group
 * @param id the handler id
 * @returns the key records and consumers use
 */
export function handlerKey(group: string, id: string): string {
  return group === "default" ? id : `${group}:${id}`;
}

/**
 * The consumers of this process's handlers: two per handler and event stream, shared by every
 * process that has the same handler.
 *
 * @param names the derived names
 * @param handlers this process's handler keys and patterns
 * @returns the consumers
 */
export function consumerSpecs(names: Names, handlers: readonly ConsumerNote[]): ConsumerSpec[] {
  return names.routes.flatMap((route) =>
    handlers.map(({ handler, pattern }) => {
      const token = keyToken(handler);
      return { route, key: handler, pattern, events: `h_${token}`, retries: `r_${token}` };
    })
  );
}

/**
 * Creates a handler's two durable pull consumers, or checks them (idempotent). A handler seen
 * for the first time starts from the events published from now on, not from the stream's
 * history; its retries consumer takes everything on its own subject.
 *
 * @param jsm the JetStream manager
 * @param spec the handler and stream
 * @param ackWait ms before an unacknowledged message is redelivered
 * @param maxAckPending how many messages may be unacknowledged at once
 * @param retireAfter ms without a process pulling after which the server removes them
 * @param replicas copies of each consumer's state (those of its stream)
 */
export async function ensureConsumers(
  jsm: JetStreamManager,
  spec: ConsumerSpec,
  ackWait: number,
  maxAckPending: number,
  retireAfter: number,
  replicas = 1,
): Promise<void> {
  const note: ConsumerNote = { handler: spec.key, pattern: spec.pattern };
  const base = {
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ackWait),
    // A handler no process has pulled for as long as events are kept is retired by the server:
    // its events have expired with it, and nothing waits for it any more.
    inactive_threshold: nanos(retireAfter),
    max_deliver: -1,
    max_ack_pending: maxAckPending,
    num_replicas: replicas,
    description: JSON.stringify(note),
  };
  const token = spec.retries.slice(2);
  await Promise.all([
    ensureConsumer(jsm, spec.route.stream, {
      ...base,
      durable_name: spec.events,
      deliver_policy: DeliverPolicy.New,
      filter_subject: `${spec.route.events}.*`,
    }),
    ensureConsumer(jsm, spec.route.stream, {
      ...base,
      durable_name: spec.retries,
      deliver_policy: DeliverPolicy.All,
      filter_subject: `${spec.route.retries}.${token}.*`,
    }),
  ]);
}

async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: { durable_name: string; filter_subject: string; num_replicas: number } & Record<string, unknown>,
): Promise<void> {
  const existing = await jsm.consumers.info(stream, config.durable_name).catch(() => undefined);
  if (existing) {
    if (existing.config.filter_subject !== config.filter_subject) {
      throw new EdgebusError(
        "conflict",
        `Cannot use consumer ${config.durable_name} on ${stream}: it exists with the filter ${
          String(existing.config.filter_subject)
        }, not ${config.filter_subject}`,
      );
    }
    // Settings edited by hand that would break delivery: a message no longer sent again after a
    // crash, or never needing an ack. The others (ack wait, pending limit) are followed as found.
    const broken = existing.config.ack_policy !== AckPolicy.Explicit
      ? `ack_policy ${String(existing.config.ack_policy)}, not explicit`
      : (existing.config.max_deliver ?? -1) > 0
      ? `max_deliver ${String(existing.config.max_deliver)}, not unlimited (-1): edgebus counts attempts itself`
      : undefined;
    if (broken) {
      throw new EdgebusError(
        "conflict",
        `Cannot use consumer ${config.durable_name} on ${stream}: it exists with ${broken}. edgebus neither uses ` +
          `nor changes a consumer set up otherwise: put it back (\`nats consumer edit ${stream} ${config.durable_name}\`)`,
      );
    }
    // 0 means "as many as its stream", which ensureStreams has checked.
    const copies = existing.config.num_replicas || config.num_replicas;
    if (copies !== config.num_replicas) {
      throw new EdgebusError(
        "conflict",
        `Cannot use consumer ${config.durable_name} on ${stream}: it exists with num_replicas ${String(copies)}, not ${
          String(config.num_replicas)
        }. edgebus neither uses nor changes a consumer set up otherwise: ` +
          `change it (\`nats consumer edit ${stream} ${config.durable_name}\`) or pass the ` +
          "matching `replicas`",
      );
    }
    return;
  }
  try {
    await jsm.consumers.add(stream, config);
  } catch (error) {
    // Another process with the same handler may be creating it at this moment.
    if (!(await jsm.consumers.info(stream, config.durable_name).catch(() => undefined))) throw error;
  }
}
