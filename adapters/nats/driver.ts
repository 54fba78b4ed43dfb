import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  type Driver,
  type Envelope,
  envelopeJson,
  envelopeOf,
  type HandlerInfo,
  type HandlerRunner,
  wholeNumber,
} from "../../driver/mod.ts";
import { chooseConnect, type ConnectFn, createLink, type NatsConnectOptions } from "./connect.ts";
import { type Consumption, startConsumers } from "./consumer.ts";
import { cronNames, natsScheduleStore } from "./cron.ts";
import { cronRunner } from "./cron_runner.ts";
import { unavailable } from "./errors.ts";
import { deadSubject, deriveNames, keyToken, type Names, routeOf } from "./names.ts";
import { union, updateOutcome } from "./outcome.ts";
import { publishAll, publishRetry } from "./publish.ts";
import { createRegistry, type Registry } from "./registry.ts";
import { type Scheduler, startScheduling } from "./scheduler.ts";
import { type ConsumerSpec, consumerSpecs, ensureConsumers, ensureStreams, handlerKey } from "./setup.ts";
import { jetStreamOf, natsStore, readParts, type WithJs, withJs } from "./store.ts";
import { buildRecord } from "./record.ts";

/** Options of {@linkcode natsDriver}. */
export interface NatsDriverOptions {
  /**
   * NATS server URLs: `ws://host:port` for `wsconnect`, or `host:port` for an injected TCP
   * connect. On a cluster, list every server: the client then reconnects to another when its
   * server dies, without waiting for that one to learn the others.
   * @default {"ws://127.0.0.1:8080"}
   */
  readonly servers?: string | readonly string[];
  /** Opens the connection instead of `wsconnect`, such as `connect` from `@nats-io/transport-node`. */
  readonly connect?: ConnectFn;
  /** Subject prefix and stream name prefix (upper-cased): one application's events, records and handlers. @default {"edgebus"} */
  readonly prefix?: string;
  /**
   * Names this service's handlers apart from another service's with the same handler ids: a
   * handler's key is `<group>:<id>` (just `<id>` in the default group). Every process that has
   * a handler with the same key shares that handler's work; each handler gets every event it
   * matches. Records are the application's, whatever the group.
   * @default {"default"}
   */
  readonly group?: string;
  /** Extra event streams, by stream name, with the event name patterns routed to each. @default {{}} */
  readonly routes?: Readonly<Record<string, readonly string[]>>;
  /** Whether this process takes part in scheduling delayed events. @default {true} */
  readonly scheduler?: boolean;
  /**
   * Copies JetStream keeps of every stream and durable consumer this driver creates, 1 to 5. On
   * a JetStream cluster, 3 lets any one server die without refusing publishes for longer than a
   * leader election (seconds) and without losing acknowledged events; it needs at least that
   * many servers. The default is 1 because it is the only value a single server accepts, and
   * the number of copies is a durability decision edgebus does not guess from the server it
   * happens to reach. Existing streams or consumers with another count are refused, not changed.
   * @default {1}
   */
  readonly replicas?: number;
  /** Stream storage. @default {"file"} */
  readonly storage?: "file" | "memory";
  /** JetStream's `duplicate_window` for publishes, ms (ids are deduplicated for as long as events are kept, beyond it). @default {120000} */
  readonly duplicateWindow?: number;
  /**
   * How long an event and its record stay, ms, finished or not; dead letters stay until replayed
   * or deleted. Keep it longer than the retry policy's `maxAge`. A handler that no process has
   * run for this long is retired (its consumers are removed), so no record waits for it.
   * @default {1296000000} (15 days)
   */
  readonly eventsMaxAge?: number;
  /** ms before an unacknowledged event is redelivered; running handlers extend it. @default {30000} */
  readonly ackWait?: number;
  /**
   * Handlers run at once by this process. The reads and writes around a run do not take a slot:
   * the process holds up to four times as many events (pulled, read, waiting, or being saved).
   * @default {64}
   */
  readonly concurrency?: number;
  /** ms to wait for JetStream to acknowledge a publish, and for the first connection. @default {5000} */
  readonly timeout?: number;
  /** ms between scheduler rounds. @default {250} */
  readonly tick?: number;
  /** ms a scheduler's lease lasts without renewal; another process takes over after it. @default {750} */
  readonly leaseTtl?: number;
  /** ms a process reuses what it read of the application's handlers (for statuses). @default {1000} */
  readonly registryTtl?: number;
  /** More nats.js `ConnectionOptions` (auth, TLS, reconnect), passed to `connect`. @default {{}} */
  readonly connection?: Readonly<Record<string, unknown>>;
  /** The clock. @default {Date.now} */
  readonly now?: () => number;
}

function assertPositive(values: Record<string, number>): void {
  for (const [name, value] of Object.entries(values)) wholeNumber(name, value);
}

/** Events due within this many ms go straight to their stream (consumers hold them back until due). */
const DIRECT_LEAD = 3_000;
const encoder = new TextEncoder();
/** The scheduler reads buckets this far ahead; below DIRECT_LEAD so no event lands in a bucket already read. */
const SCHEDULER_LEAD = 2_000;

/**
 * A driver over NATS JetStream, for Deno, Bun and Node (with a `WebSocket`, or an injected TCP
 * connect). Handlers, not processes, consume: each handler has one durable consumer per event
 * stream, shared by every process that registers it, so a process only receives events for
 * handlers it has. A publish is one acknowledged write (the event's first version, which is
 * also its record's); handlers write their results as they finish, and any process reads the
 * whole record. Call `bus.start()` in the processes that run handlers; publish-only processes
 * skip it (and still call `bus.stop()` to close the connection).
 *
 * @param options servers, names, group and limits
 * @returns the driver
 * @throws {EdgebusError} code `unavailable` at once when there is no global `WebSocket` and no `connect`
 *
 * @example Consume and publish
 * ```ts ignore
 * import { createBus } from "edgebus";
 * import { natsDriver } from "edgebus/nats";
 *
 * const bus = createBus({ driver: natsDriver({ servers: "ws://127.0.0.1:8080" }) });
 * bus.on("user.joined", { id: "welcome-email" }, (event) => console.log("welcome", event.body));
 * await bus.start();
 * await bus.publish("user.joined", { after: "1 day" }, { user_id: "2b6m" });
 * ```
 */
export function natsDriver(options: NatsDriverOptions = {}): Driver {
  const {
    servers = "ws://127.0.0.1:8080",
    prefix = "edgebus",
    group = "default",
    routes = {},
    scheduler: schedules = true,
    ackWait = 30_000,
    concurrency = 64,
    timeout = 5_000,
    tick = 250,
    leaseTtl = 750,
    registryTtl = 1_000,
    now = Date.now,
  } = options;
  assertPositive({ ackWait, concurrency, timeout, tick, leaseTtl, registryTtl });
  const replicas = wholeNumber("replicas", options.replicas ?? 1, 1, 5);
  const connect = chooseConnect(options.connect);
  const names = deriveNames(prefix, group, routes);
  const settings = {
    storage: options.storage ?? "file",
    duplicateWindow: options.duplicateWindow ?? 120_000,
    eventsMaxAge: options.eventsMaxAge ?? 15 * 86_400_000,
    replicas,
  };
  let ready = false;
  const setUp = async (nc: NatsConnection): Promise<void> => {
    if (ready) return;
    await ensureStreams((await jetStreamOf(nc))[1], names, settings);
    ready = true;
  };
  const link = createLink(connect, {
    servers: [servers].flat() as string[],
    timeout,
    name: `edgebus-${prefix}-${group}`,
    // A service outlives server restarts: keep reconnecting, publishes still time out meanwhile.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // nats.js records a stack trace for every request to improve its errors; at thousands of
    // publishes a second that is about a third of the client's CPU. Pass `connection:
    // { noAsyncTraces: false }` to have them back.
    noAsyncTraces: true,
    ...options.connection,
  } as NatsConnectOptions, setUp);
  const js = withJs(link.use);
  const registry = createRegistry(registryTtl, now);
  const store = natsStore(names, js, registry, now);
  const cron = cronRunner({ cron: cronNames(names), js, now, leaseTtl });
  const scheduleStore = {
    ...natsScheduleStore({ names, js, storage: settings.storage, replicas, now }),
    start: cron.start,
  };
  const owner = `${prefix}-${group}-${crypto.randomUUID()}`;
  const timing = () => ({ now: now(), lead: DIRECT_LEAD, timeout });
  let consumption: Consumption | undefined;
  let scheduler: Scheduler | undefined;
  let stopping = false;
  let pendingAdds: Promise<void> = Promise.resolve();

  const publish = (envelopes: readonly Envelope[]): Promise<boolean[]> => {
    // Encoded now, in the publish's own turn, while the JSON made by its size check is at hand.
    const data = envelopes.map((e) => encoder.encode(envelopeJson(e)));
    // A handler this process added just before publishing takes the event: its consumer first.
    return pendingAdds.then(() =>
      js(async (client, jsm) => {
        if (envelopes.some(linkedExplicitly)) {
          await linkExplicit(client, jsm, names, envelopes);
        }
        return await publishAll(client, jsm, names, envelopes, timing(), data);
      })
    ).catch((error) => {
      const what = envelopes.length === 1 ? `"${envelopes[0].name}"` : `${envelopes.length} events`;
      throw unavailable(`publish ${what}`, error);
    });
  };

  return {
    store,
    schedules: scheduleStore,
    publish,
    async send(envelopes) {
      await publish(envelopes);
    },
    cancel: (id) => js((client, jsm) => cancelEvent({ client, jsm, names, registry, now, timing }, id)),
    replay: (id) => js((client, jsm) => replayEvent({ client, jsm, names, registry, now, timing }, id)),
    async start(_dispatch, runner?: HandlerRunner) {
      const connection = await link.get();
      const [client, jsm] = await jetStreamOf(connection);
      const ids = new Map<string, string>();
      const ensure = (spec: ConsumerSpec) =>
        ensureConsumers(jsm, spec, ackWait, Math.max(1_000, concurrency * 20), settings.eventsMaxAge, replicas);
      const consumersOf = async (list: readonly HandlerInfo[]) => {
        for (const h of list) ids.set(handlerKey(group, h.id), h.id);
        const specs = consumerSpecs(names, list.map((h) => ({ handler: handlerKey(group, h.id), pattern: h.pattern })));
        await Promise.all(specs.map(ensure));
        registry.refresh();
        return specs;
      };
      const specs = await consumersOf(runner?.handlers ?? []);
      if (runner) {
        consumption = await startConsumers(client, jsm, specs, {
          names,
          runner,
          ids,
          concurrency,
          ackWait,
          lead: DIRECT_LEAD,
          timeout,
          now,
          connection,
          recreate: async (spec) => {
            await ensureStreams(jsm, names, settings);
            await ensure(spec);
            registry.refresh();
          },
        });
        // Handlers added after start() (bus.on later) get their consumers in order.
        let chain = Promise.resolve();
        runner.onAdd((h) => {
          chain = chain.then(async () => {
            if (!stopping) await consumption?.add(await consumersOf([h]));
          }).catch(() => {});
          pendingAdds = chain;
        });
      }
      if (schedules) {
        scheduler = startScheduling({
          names,
          js,
          now,
          owner,
          tick,
          leaseTtl,
          lead: SCHEDULER_LEAD,
          onRound: cron.onRound,
          replicas,
        });
      }
    },
    async stop() {
      stopping = true;
      await pendingAdds;
      await consumption?.stop();
      await cron.stop();
      await scheduler?.stop();
      await link.close();
    },
  };
}

/** An event given a correlation id not its own, and no parent: only its root's outcome can find it. */
const linkedExplicitly = (e: Envelope): boolean => e.correlationId !== e.id && e.causationId === undefined;

/**
 * Links each event published with an explicit `correlationId` (not its own id) and no parent to
 * the outcome of that id, before the event is written, so that the chain's walk finds it (a
 * link to an event whose publish then failed leads nowhere and is skipped). Events published
 * through `ctx.publish` are found through their parent's outcome, and the others need nothing:
 * so only these pay a second write.
 */
async function linkExplicit(
  client: JetStreamClient,
  jsm: JetStreamManager,
  names: Names,
  envelopes: readonly Envelope[],
): Promise<void> {
  const explicit = envelopes.filter(linkedExplicitly);
  await Promise.all(
    explicit.map((e) =>
      updateOutcome(
        client,
        jsm,
        names,
        e.correlationId,
        (cur) =>
          cur?.linked?.includes(e.id)
            ? undefined
            : { ...cur, handlers: cur?.handlers ?? {}, linked: union(cur?.linked, [e.id]) },
      )
    ),
  );
}

/** What cancel and replay act with. */
interface Ops {
  readonly client: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly names: Names;
  readonly registry: Registry;
  readonly now: () => number;
  readonly timing: () => { now: number; lead: number; timeout: number };
}

/**
 * Cancels an event for every handler: its outcome says so, which consumers and the scheduler
 * read before they run or move it. False when it is unknown, already ran (a handler has a
 * result), was published without a delay (under way at once) or is cancelled already.
 */
async function cancelEvent(ops: Ops, id: string): Promise<boolean> {
  const { client, jsm, names, registry, now } = ops;
  const { parts, outcome } = await readParts(jsm, names, id);
  const envelope = parts.event?.envelope ?? parts.delayed;
  if (!envelope || envelope.delay === 0) return false;
  const record = buildRecord(parts, await registry.handlers(jsm, routeOf(names, envelope.name).stream), now());
  if (!record || (record.status !== "scheduled" && record.status !== "pending")) return false;
  if (Object.keys(record.handlers).length > 0) return false;
  const written = await updateOutcome(
    client,
    jsm,
    names,
    id,
    (cur) =>
      cur && (cur.cancelled !== undefined || cur.started !== undefined || Object.keys(cur.handlers).length > 0)
        ? undefined
        : { ...cur, handlers: {}, cancelled: now(), envelope },
    outcome,
  );
  return written !== undefined;
}

/**
 * Runs a dead letter's failed handlers again with fresh attempts (or, for an event no handler
 * took, every handler now registered for its name): one message each on the handler's retry
 * subject, after its result is cleared.
 */
async function replayEvent(ops: Ops, id: string): Promise<boolean> {
  const { client, jsm, names, registry, now } = ops;
  const { parts, outcome } = await readParts(jsm, names, id);
  const name = (parts.event?.envelope ?? parts.dead ?? parts.delayed)?.name;
  if (name === undefined) return false;
  registry.refresh(); // a handler added a moment ago in another process is replayed too
  const known = await registry.handlers(jsm, routeOf(names, name).stream);
  const record = buildRecord(parts, known, now());
  if (!record) return false;
  const again = record.status === "dead"
    ? Object.entries(record.handlers).filter(([, r]) => r.status !== "done").map(([k]) => k)
    : record.noHandler
    ? known.filter((h) => h.matches(name)).map((h) => h.key)
    : [];
  if (again.length === 0) return false;
  await updateOutcome(client, jsm, names, id, (cur) => {
    const handlers = { ...cur?.handlers };
    for (const k of again) delete handlers[k];
    return { ...cur, handlers, replayed: [...new Set([...(cur?.replayed ?? []), ...again])] };
  }, outcome);
  const at = now();
  const fresh: Envelope = { ...envelopeOf(record), due: at, attempt: 1 };
  await Promise.all(
    again.map((k) => publishRetry(client, names, fresh, k, `${id}:${keyToken(k)}:replay:${at}`, ops.timing())),
  );
  await jsm.streams.purge(names.deadStream, { filter: deadSubject(names, id) });
  return true;
}

export type { WithJs };
