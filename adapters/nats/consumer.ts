import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import { compilePattern, type HandlerRunner, readEnvelope } from "../../driver/mod.ts";
import { atMost } from "./connect.ts";
import { CONSUMER_NOT_FOUND, hasApiCode, STREAM_NOT_FOUND } from "./errors.ts";
import { FirstDeliveries } from "./fresh.ts";
import { type Gate, handle, type Lane } from "./handling.ts";
import type { Names } from "./names.ts";
import type { ConsumerSpec } from "./setup.ts";

/** What the pull loops need. */
export interface ConsumeDeps {
  readonly names: Names;
  readonly runner: HandlerRunner;
  /** Handler key to this process's handler id. */
  readonly ids: ReadonlyMap<string, string>;
  /** Handlers run at once by this process, over all its consumers (it holds four times as many messages). */
  readonly concurrency: number;
  /** The consumers' ack wait, ms; a running handler says it is still working well before. */
  readonly ackWait: number;
  /** A retry due within this many ms is a delayed redelivery; later ones go through the schedule. */
  readonly lead: number;
  /** ms to wait for JetStream to acknowledge a write. */
  readonly timeout: number;
  readonly now: () => number;
  /** The connection `js` uses: JetStream's advisories of new consumer leaders are heard on it. */
  readonly connection: NatsConnection;
  /**
   * Makes a handler's consumers (and their stream) again when they were deleted under the
   * running process: by an operator, or by the server once no process pulled for its inactive
   * threshold. They start from the events published from then on, as a new handler does.
   */
  readonly recreate: (spec: ConsumerSpec) => Promise<void>;
}

/** Pull loops over this process's consumers. */
export interface Consumption {
  /** Starts pulling from more consumers (a handler added while running). */
  add(specs: readonly ConsumerSpec[]): Promise<void>;
  /** Takes no more messages, waits for those being handled, and returns. */
  stop(): Promise<void>;
}

/** A lane's current pull, and whether a new leader was announced since it last opened. */
interface Following {
  current?: ConsumerMessages;
  elected: boolean;
  /** Ends the lane's wait before reopening, while it waits. */
  wake?: () => void;
}

/** The consumer a lane pulls from. */
const consumerOf = (lane: Lane): string => lane.retries ? lane.spec.retries : lane.spec.events;

/** A counting semaphore: at most `size` holders at once. */
function slots(size: number) {
  let free = size;
  const waiting: (() => void)[] = [];
  return {
    take: (): Promise<void> | undefined => {
      if (free > 0) {
        free--;
        return undefined;
      }
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    give: (): void => {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}

/** How many messages a process holds at once for `concurrency` handlers. */
const holding = (concurrency: number): number => concurrency * 4;

/**
 * Pull settings: a pull lasts 30 s and the server beats every 1 s while it waits, so a dead
 * leader is noticed in about 2 s. Long pulls because nats-server 2.9.10 drops a pull that expires
 * just as a message arrives for it, without the 408 that tells the client to pull again: with
 * 2 s pulls that stalled a lane until its heartbeats were missed in about 3 % of one test's runs
 * (ARCHITECTURE.md). A leader that steps down (a rolling restart, an operator's step-down) is
 * followed through JetStream's advisory of the new leader, not the pull's expiry.
 */
const PULL = { expires: 30_000, idle_heartbeat: 1_000 } as const;
/** JetStream announces each newly elected consumer leader on `<this>.<stream>.<consumer>` (replicated consumers only). */
const LEADER_ELECTED = "$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED";
/** ms between tries to reopen a lane whose consumer has no leader. */
const REOPEN_EVERY = 200;
/**
 * ms a try to reopen waits for the consumer to answer: while its replicas elect a leader the
 * request is not refused but left unanswered, and a short wait keeps the tries frequent.
 */
const REOPEN_WAIT = 1_000;

/**
 * What ends a lane's messages so that the lane is reopened: a pull met no responder (the consumer
 * has no leader at the moment), or the consumer or its stream was deleted (the reopen then makes
 * them again). Not missed heartbeats: nats.js pulls again at once on the same subscription then,
 * which reaches a new leader, and that pull is already sent when the status is heard; a lane
 * reopened on it left that pull waiting at the new leader for a subscription that was gone.
 * Measured on a 3-node cluster, a consumer's step-down then stopped its handlers for 30 s (about
 * `ackWait`) in 4 of 13 runs; without the reopen, in none of 5.
 */
const REOPEN_ON = new Set([
  "no_responders",
  "consumer_deleted",
  "consumer_not_found",
  "stream_not_found",
]);

/** Statuses of a lane's pull that say nothing went wrong between it and its consumer. */
const QUIET = new Set(["next", "heartbeat", "flow_control", "debug", "discard"]);
/** Statuses of the connection after which JetStream may deliver again what it delivered before. */
const DISRUPTING = new Set(["disconnect", "reconnect", "reconnecting", "ldm", "staleConnection", "forceReconnect"]);

/**
 * Ends the messages on a status of {@linkcode REOPEN_ON}; any status but a quiet one makes the
 * lane read outcomes before its handler again until it knows which messages came after it.
 */
async function watch(messages: ConsumerMessages, lane: Lane): Promise<void> {
  for await (const status of messages.status()) {
    if (!QUIET.has(status.type)) lane.first?.disrupted();
    if (REOPEN_ON.has(status.type)) {
      messages.stop();
      return;
    }
  }
}

/**
 * Starts one pull loop per consumer of this process's handlers; each message is handled on its
 * own, at most `concurrency` at once in this process.
 *
 * @param js the JetStream client
 * @param jsm the JetStream manager
 * @param specs the consumers, already created
 * @param deps the runner and the rest
 * @returns the running loops
 */
export async function startConsumers(
  js: JetStreamClient,
  jsm: JetStreamManager,
  specs: readonly ConsumerSpec[],
  deps: ConsumeDeps,
): Promise<Consumption> {
  let stopping = false;
  // At most `concurrency` handlers run at once. A process holds more messages than that (being
  // read, waiting for a handler slot, or being saved): each waits on a round trip before and after
  // its handler, and a process that held only `concurrency` would spend its slots waiting on the
  // network. The bound leaves the rest of a backlog to other processes.
  const runs = slots(deps.concurrency);
  const handlers: Gate = {
    enter: async () => {
      await runs.take();
      if (!stopping) return true;
      runs.give();
      return false;
    },
    leave: runs.give,
  };
  const held = slots(holding(deps.concurrency));
  const running = new Set<Promise<void>>();
  // Every message this process holds, from its arrival (it may wait for a free slot) until it is
  // acked or given back: the server is told each is in work, so none is sent to another process
  // meanwhile, however long the handlers ahead of it take. One timer for all, rather than one each,
  // beating every third of the shortest ack wait in play: this process's setting, and that of each
  // consumer it pulls from (made by whichever process came first, perhaps with another setting).
  const alive = new Set<JsMsg>();
  let beatEvery = Infinity;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const beatWithin = (ackWait: number): void => {
    const every = Math.max(100, Math.floor(ackWait / 3));
    if (every >= beatEvery) return;
    beatEvery = every;
    clearInterval(heartbeat);
    heartbeat = setInterval(() => {
      for (const msg of alive) msg.working();
    }, every);
  };
  beatWithin(deps.ackWait);
  const streams = new Set<ConsumerMessages>();
  const loops: Promise<void>[] = [];
  // What each lane pulls now, by consumer name, and how to wake it from its wait before reopening:
  // when JetStream announces a new leader for a consumer, its lanes pull from that leader at once
  // rather than after two missed heartbeats (2–3 s) of the old one.
  const following = new Map<string, Set<Following>>();
  // The server that led each pull's consumer when the pull was opened.
  const leaders = new WeakMap<ConsumerMessages, string | undefined>();
  const advisories = new Map<string, Subscription>();
  const hear = (stream: string): void => {
    if (advisories.has(stream)) return;
    // A user without the right to subscribe to advisories (the server refuses it) still has the
    // heartbeats: nats.js closes the subscription and reports the refusal, nothing more.
    advisories.set(
      stream,
      deps.connection.subscribe(`${LEADER_ELECTED}.${stream}.*`, {
        callback: (error, msg) => {
          if (error) return;
          const consumer = msg.subject.slice(msg.subject.lastIndexOf(".") + 1);
          let leader: string | undefined;
          try {
            leader = (msg.json() as { leader?: string }).leader;
          } catch {
            // Not the advisory's JSON: reopen anyway, it costs one request.
          }
          for (const f of following.get(consumer) ?? []) {
            // A lane that already pulls from the announced leader stays as it is: its pull waits
            // there, and a lane stopped now would leave it behind, taking messages no one reads.
            if (f.current && leader !== undefined && leaders.get(f.current) === leader) continue;
            f.current?.stop();
            f.elected = true;
            f.wake?.();
          }
        },
      }),
    );
  };

  // Messages still in nats.js's buffer are not yet in `alive`, so nothing tells the server they
  // are in work: the loop must not wait long before taking them. It skips the names its handler
  // does not take without waiting at all, and waits only while `concurrency` messages are ahead
  // of their handler (being read, or waiting for a handler slot), not for results being saved.
  const ahead = slots(deps.concurrency);
  const pull = async (messages: ConsumerMessages, lane: Lane): Promise<void> => {
    for await (const msg of messages) {
      // Buffered messages that arrive while stopping go back at once for another process.
      if (stopping) {
        msg.nak();
        continue;
      }
      lane.first?.delivered(msg);
      const envelope = readEnvelope(msg.string());
      if (!envelope) {
        msg.term(); // not an edgebus event: never redeliver it
        continue;
      }
      if (!lane.retries && !lane.matches(envelope.name)) {
        msg.ack();
        continue;
      }
      alive.add(msg);
      await held.take();
      await ahead.take();
      let before = true;
      const started = (): void => {
        if (before) ahead.give();
        before = false;
      };
      if (stopping) {
        started();
        held.give();
        alive.delete(msg);
        msg.nak();
        continue;
      }
      const gate: Gate = {
        enter: async () => {
          const entered = await handlers.enter();
          started();
          return entered;
        },
        leave: handlers.leave,
      };
      const job = handle(msg, envelope, lane, deps, js, jsm, gate).catch(() => {
        // NATS failed mid-way: let the message come back a little later.
        msg.nak(1_000);
      }).finally(() => {
        started();
        alive.delete(msg);
        held.give();
        running.delete(job);
      });
      running.add(job);
    }
  };
  const open = async (lane: Lane, within?: number): Promise<ConsumerMessages> => {
    lane.first?.disrupted();
    const get = js.consumers.get(lane.spec.route.stream, consumerOf(lane));
    const consumer = await (within === undefined ? get : atMost(get, within));
    const { config, cluster } = await consumer.info(true); // read by the get: no request
    if (config.ack_wait) beatWithin(config.ack_wait / 1_000_000);
    // Bound to the consumer this driver made: nats.js then re-pulls at once when heartbeats stop,
    // instead of checking the consumer with a wait of `expires` between tries.
    const messages = await consumer.consume({
      ...PULL,
      max_messages: Math.min(deps.concurrency, 256),
      bind: true,
    });
    streams.add(messages);
    leaders.set(messages, cluster?.leader);
    return messages;
  };
  // Pulls from a lane until stopped. A pull waits at the consumer's leader; when that server dies,
  // heartbeats stop and the pulls meet no one (no responders) until another replica leads. Then
  // the lane is reopened as soon as the consumer answers again, not after nats.js's own backoff.
  const follow = async (lane: Lane, first: ConsumerMessages): Promise<void> => {
    const name = consumerOf(lane);
    const f: Following = { elected: false };
    if (!following.has(name)) following.set(name, new Set());
    following.get(name)!.add(f);
    let messages: ConsumerMessages | undefined = first;
    while (!stopping) {
      if (messages) {
        const current: ConsumerMessages = messages;
        f.current = current;
        const watching = watch(current, lane).catch(() => {});
        await pull(current, lane).catch(() => {});
        f.current = undefined;
        streams.delete(current);
        current.stop();
        await watching;
        messages = undefined;
      }
      if (stopping) break;
      // Straight to the new leader once it is announced; else a short wait between tries.
      if (!f.elected) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, REOPEN_EVERY);
          f.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        f.wake = undefined;
      }
      f.elected = false;
      messages = await open(lane, REOPEN_WAIT).catch(async (error) => {
        // Gone, not merely without a leader for a moment: made again, and pulled at the next try.
        if (hasApiCode(error, CONSUMER_NOT_FOUND) || hasApiCode(error, STREAM_NOT_FOUND)) {
          await deps.recreate(lane.spec).catch(() => {});
        }
        return undefined;
      });
      if (stopping) messages?.stop();
    }
    following.get(name)!.delete(f);
  };
  const add = async (more: readonly ConsumerSpec[]): Promise<void> => {
    for (const spec of more) {
      const matches = compilePattern(spec.pattern);
      hear(spec.route.stream);
      for (const retries of [false, true]) {
        // Retries are never first deliveries of an event; only the event consumer's lane may skip reads.
        const first = retries ? undefined : new FirstDeliveries(async () => {
          const info = await jsm.streams.info(spec.route.stream);
          return info.state.last_seq;
        });
        const lane: Lane = { spec, retries, matches, first };
        if (first) firsts.add(first);
        loops.push(follow(lane, await open(lane)));
      }
    }
  };
  // A connection lost or moved (a server restart, a lame-duck server) may bring back deliveries
  // already made: every lane reads before its handlers until it knows what came after.
  const firsts = new Set<FirstDeliveries>();
  const connectionStatus = deps.connection.status();
  (async () => {
    for await (const status of connectionStatus) {
      if (DISRUPTING.has(status.type)) { for (const first of firsts) first.disrupted(); }
    }
  })().catch(() => {});
  await add(specs);

  return {
    add,
    async stop() {
      stopping = true;
      for (const messages of streams) messages.stop();
      await Promise.all(loops);
      while (running.size > 0) await Promise.all([...running]);
      clearInterval(heartbeat);
      for (const sub of advisories.values()) sub.unsubscribe();
      (connectionStatus as { stop?: () => void }).stop?.();
    },
  };
}
