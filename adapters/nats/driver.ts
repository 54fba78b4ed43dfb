import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { type Driver, EdgebusError, type Envelope } from "../../mod.ts";
import { chooseConnect, type ConnectFn, createLink, type NatsConnectOptions } from "./connect.ts";
import { type Consumption, startConsumers } from "./consumer.ts";
import { unavailable } from "./errors.ts";
import { deriveNames } from "./names.ts";
import { publishAll, publishCancel } from "./publish.ts";
import { type Scheduler, startScheduling } from "./scheduler.ts";
import { consumerSpecs, ensureConsumer, ensureStreams } from "./setup.ts";
import { natsStore, withJs } from "./store.ts";

/** Options of {@linkcode natsDriver}. */
export interface NatsDriverOptions {
  /** NATS server URLs: `ws://host:port` for `wsconnect`, or `host:port` for an injected TCP connect. @default {"ws://127.0.0.1:8080"} */
  readonly servers?: string | readonly string[];
  /** Opens the connection instead of `wsconnect`, such as `connect` from `@nats-io/transport-node`. */
  readonly connect?: ConnectFn;
  /** Subject prefix and stream name prefix (upper-cased). @default {"edgebus"} */
  readonly prefix?: string;
  /**
   * The consumer group: processes of one group share events; each group gets every event and
   * keeps its own records (`bus.get`, `bus.list` and dead letters answer for this group).
   * @default {"default"}
   */
  readonly group?: string;
  /** Extra event streams, by stream name, with the event name patterns routed to each. @default {{}} */
  readonly routes?: Readonly<Record<string, readonly string[]>>;
  /** The event names (patterns) this process consumes. @default {[">"]} */
  readonly consume?: readonly string[];
  /** Whether this process takes part in scheduling delayed events. @default {true} */
  readonly scheduler?: boolean;
  /** Stream storage. @default {"file"} */
  readonly storage?: "file" | "memory";
  /** JetStream's `duplicate_window` for publishes, ms. @default {120000} */
  readonly duplicateWindow?: number;
  /**
   * How long an event stays in its event stream, delivered or not, ms. A group whose processes
   * are all down for longer misses the events that expired meanwhile; a group created later
   * receives the events still kept. (Interest retention would keep less, but on nats-server 2.9
   * it lost acknowledged publishes across a server restart in our tests.)
   * @default {604800000} (7 days)
   */
  readonly eventsMaxAge?: number;
  /** How long records stay, ms; 0 keeps them (and dead letters) until deleted. @default {0} */
  readonly recordsMaxAge?: number;
  /** ms before an unacknowledged event is redelivered; running handlers extend it. @default {30000} */
  readonly ackWait?: number;
  /** Events handled at once by this process. @default {64} */
  readonly concurrency?: number;
  /** ms to wait for JetStream to acknowledge a publish, and for the first connection. @default {5000} */
  readonly timeout?: number;
  /** ms between scheduler rounds. @default {250} */
  readonly tick?: number;
  /** ms a scheduler's lease lasts without renewal; another process takes over after it. @default {5000} */
  readonly leaseTtl?: number;
  /** More nats.js `ConnectionOptions` (auth, TLS, reconnect), passed to `connect`. @default {{}} */
  readonly connection?: Readonly<Record<string, unknown>>;
  /** The clock. @default {Date.now} */
  readonly now?: () => number;
}

function assertPositive(values: Record<string, number>): void {
  for (const [name, value] of Object.entries(values)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new EdgebusError("invalid_option", `Invalid ${name} ${String(value)}: expected a whole number >= 1`);
    }
  }
}

/** Events due within this many ms go straight to their stream (consumers hold them back until due). */
const DIRECT_LEAD = 3_000;
/** The scheduler reads buckets this far ahead; below DIRECT_LEAD so no event lands in a bucket already read. */
const SCHEDULER_LEAD = 2_000;

/**
 * A driver over NATS JetStream, for Deno, Bun and Node (with a `WebSocket`, or an injected TCP
 * connect). Events, delayed events, records and dead letters all live in JetStream, so any
 * number of processes can publish, consume, schedule and list. Call `bus.start()` in the
 * processes that run handlers.
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
 * const bus = createBus({ driver: natsDriver({ servers: "ws://127.0.0.1:8080", group: "mailer" }) });
 * bus.on("user.joined", (event) => console.log("welcome", event.body));
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
    consume = [">"],
    scheduler: schedules = true,
    ackWait = 30_000,
    concurrency = 64,
    timeout = 5_000,
    tick = 250,
    leaseTtl = 5_000,
    now = Date.now,
  } = options;
  assertPositive({ ackWait, concurrency, timeout, tick, leaseTtl });
  const connect = chooseConnect(options.connect);
  const names = deriveNames(prefix, group, routes);
  const specs = consumerSpecs(names, consume);
  const settings = {
    storage: options.storage ?? "file",
    duplicateWindow: options.duplicateWindow ?? 120_000,
    eventsMaxAge: options.eventsMaxAge ?? 7 * 86_400_000,
    recordsMaxAge: options.recordsMaxAge ?? 0,
  };
  let ready = false;
  const setUp = async (nc: NatsConnection): Promise<void> => {
    if (ready) return;
    await ensureStreams(await jetstreamManager(nc, { checkAPI: false }), names, settings);
    ready = true;
  };
  const link = createLink(connect, {
    servers: [servers].flat() as string[],
    timeout,
    name: `edgebus-${group}`,
    // A service outlives server restarts: keep reconnecting, publishes still time out meanwhile.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    ...options.connection,
  } as NatsConnectOptions, setUp);
  const js = withJs(link.use);
  const store = natsStore(names, js);
  const owner = `${group}-${crypto.randomUUID()}`;
  let consumption: Consumption | undefined;
  let scheduler: Scheduler | undefined;

  const send = (envelopes: readonly Envelope[], group?: string): Promise<void> =>
    js((client, jsm) => publishAll(client, jsm, names, envelopes, { now: now(), lead: DIRECT_LEAD, timeout, group }))
      .catch((error) => {
        const what = envelopes.length === 1 ? `"${envelopes[0].name}"` : `${envelopes.length} events`;
        throw unavailable(`publish ${what}`, error);
      });

  return {
    store,
    send: (envelopes) => send(envelopes),
    async cancel(id) {
      // The bus has marked the record cancelled, which stops this group; the rest must be told.
      const record = await store.get(id);
      const scheduled = record !== undefined && record.due - record.time > DIRECT_LEAD;
      await link.use((nc) => publishCancel(nc, names, id, scheduled ? record.due : undefined, timeout)).catch((e) => {
        throw unavailable(`cancel "${id}"`, e);
      });
      return scheduled;
    },
    async start(dispatch) {
      const nc = await link.get();
      const jsm = await jetstreamManager(nc, { checkAPI: false });
      await Promise.all(specs.map((s) => ensureConsumer(jsm, s, ackWait, Math.max(1_000, concurrency * 20))));
      consumption = await startConsumers(jetstream(nc), specs, {
        dispatch,
        group,
        concurrency,
        ackWait,
        now,
        retry: (envelope) => send([envelope], group),
      });
      if (schedules) {
        scheduler = startScheduling(nc, { names, js, now, owner, tick, leaseTtl, lead: SCHEDULER_LEAD });
      }
    },
    async stop() {
      await consumption?.stop();
      await scheduler?.stop();
      await link.close();
    },
  };
}
