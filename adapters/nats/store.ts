import type { JetStreamClient, JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { EdgebusError } from "../../mod.ts";
import {
  compilePattern,
  decodeCursor,
  DEFAULT_LIST_LIMIT,
  type Envelope,
  type EventRecord,
  type ListQuery,
  newerFirst,
  type Page,
  pageOf,
  type RecordStore,
} from "../../driver/mod.ts";
import { chainRecords } from "./chain.ts";
import { unavailable } from "./errors.ts";
import { readOutcome, type Versioned } from "./outcome.ts";
import { buildRecord, type EventParts } from "./record.ts";
import type { Registry } from "./registry.ts";
import { deadSubject, delayedSubject, eventSubject, type Names, outcomeSubject, routeOf } from "./names.ts";
import { MOVED_HEADER } from "./publish.ts";
import { attachPipe, pipeFor } from "./pipe.ts";

/** Runs a function with a JetStream client and manager. */
export type WithJs = <T>(fn: (js: JetStreamClient, jsm: JetStreamManager) => Promise<T>) => Promise<T>;

// One client and manager per connection, shared by every part of the driver: making them on every
// call costs publish throughput. They reach the connection's lean request path (pipe.ts).
const clients = new WeakMap<NatsConnection, Promise<[JetStreamClient, JetStreamManager]>>();

/**
 * The JetStream client and manager of a connection, made once.
 *
 * @param nc the connection
 * @returns its client and manager
 */
export function jetStreamOf(nc: NatsConnection): Promise<[JetStreamClient, JetStreamManager]> {
  let pair = clients.get(nc);
  if (!pair) {
    pair = jetstreamManager(nc, { checkAPI: false }).then((jsm) => {
      const js = jetstream(nc);
      attachPipe(pipeFor(nc), js, jsm);
      return [js, jsm];
    });
    clients.set(nc, pair);
  }
  return pair;
}

/**
 * Adapts a connection getter to a {@linkcode WithJs}.
 *
 * @param use runs a function on a connection
 * @returns the adapter
 */
export function withJs(use: <T>(fn: (nc: NatsConnection) => Promise<T>) => Promise<T>): WithJs {
  return (fn) =>
    use(async (nc) => {
      const [js, jsm] = await jetStreamOf(nc);
      return fn(js, jsm);
    });
}

/** A message by subject, or undefined (a direct get: any replica answers, without the JetStream API). */
export async function lastOn(jsm: JetStreamManager, stream: string, subject: string): Promise<StoredMsg | undefined> {
  return (await jsm.direct.getMessage(stream, { last_by_subj: subject })) ?? undefined;
}

/** A message by sequence, or undefined when it was removed. */
async function atSeq(jsm: JetStreamManager, stream: string, seq: number): Promise<StoredMsg | undefined> {
  try {
    return (await jsm.direct.getMessage(stream, { seq })) ?? undefined;
  } catch (error) {
    if (/no message found|not found/i.test(String(error))) return undefined;
    throw error;
  }
}

/** The event as stored in its stream, with the time the server stored it. */
function stored(msg: StoredMsg | undefined): EventParts["event"] {
  return msg ? { envelope: msg.json<Envelope>(), stored: msg.time.getTime() } : undefined;
}

/**
 * Everything JetStream keeps of one event, read at once.
 *
 * @param jsm the JetStream manager
 * @param names the derived names
 * @param id the event id
 * @returns the parts, and the outcome's version for a compare-and-set after it
 */
export async function readParts(
  jsm: JetStreamManager,
  names: Names,
  id: string,
): Promise<{ parts: EventParts; outcome: Versioned }> {
  const [delayed, outcome, dead, ...events] = await Promise.all([
    lastOn(jsm, names.delayedStream, delayedSubject(names, id)),
    readOutcome(jsm, names, id),
    lastOn(jsm, names.deadStream, deadSubject(names, id)),
    ...names.routes.map((r) => lastOn(jsm, r.stream, eventSubject(r, id))),
  ]);
  const parts: EventParts = {
    event: stored(events.find((e) => e !== undefined)),
    delayed: delayed?.json<Envelope>(),
    outcome: outcome.value,
    dead: dead?.json<EventRecord>(),
  };
  return { parts, outcome };
}

/** What `list` pages through: one position per source, newest first. */
interface Source {
  readonly stream: string;
  /** Whether a message of this stream is an event's first version. */
  readonly first: (msg: StoredMsg) => boolean;
}

const MAX_CHUNK = 512;

function encodePositions(positions: readonly number[]): string {
  return `n${positions.join("-")}`;
}

function decodePositions(cursor: string, count: number): number[] {
  const parts = cursor.startsWith("n") ? cursor.slice(1).split("-").map(Number) : [];
  if (parts.length !== count || parts.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new EdgebusError(
      "invalid_option",
      `Invalid cursor ${JSON.stringify(cursor)}: pass the cursor of the previous page unchanged`,
    );
  }
  return parts;
}

/**
 * Records in JetStream, put together per event from its first version, its outcome and its dead
 * letter (see the README's data model): nothing is written twice for them. `list` walks the
 * streams back from their newest messages, a chunk at a time, so a page costs about a page of
 * reads when the filter matches often.
 *
 * @param names the derived names
 * @param js runs JetStream calls
 * @param registry the application's handlers
 * @param now the clock
 * @returns the store; the driver writes, so `create` and `put` refuse
 */
export function natsStore(names: Names, js: WithJs, registry: Registry, now: () => number): RecordStore {
  const known = (jsm: JetStreamManager, name: string) => registry.handlers(jsm, routeOf(names, name).stream);

  const recordOf = async (jsm: JetStreamManager, parts: EventParts): Promise<EventRecord | undefined> => {
    const envelope = parts.event?.envelope ?? parts.delayed ?? parts.dead ?? parts.outcome?.envelope;
    return envelope ? buildRecord(parts, await known(jsm, envelope.name), now()) : undefined;
  };

  const sources: Source[] = [
    ...names.routes.map((r) => ({
      stream: r.stream,
      first: (m: StoredMsg) => m.subject.startsWith(`${r.events}.`) && !m.header?.has(MOVED_HEADER),
    })),
    { stream: names.delayedStream, first: () => true },
  ];

  /**
   * Completes the parts of an event found in a stream. Its outcome holds every result (a dead
   * letter only repeats them, for when the outcome has expired with the event), so a listed
   * event costs one lookup, two for a delayed one.
   */
  const complete = async (jsm: JetStreamManager, msg: StoredMsg, delayedSource: boolean): Promise<EventParts> => {
    const envelope = msg.json<Envelope>();
    const route = routeOf(names, envelope.name);
    const [outcome, event] = await Promise.all([
      readOutcome(jsm, names, envelope.id),
      delayedSource ? lastOn(jsm, route.stream, eventSubject(route, envelope.id)) : Promise.resolve(msg),
    ]);
    return { event: stored(event), delayed: delayedSource ? envelope : undefined, outcome: outcome.value };
  };

  /**
   * Walks a stream back from below `below`, a chunk at a time (a page first, more when `pick`
   * skips much of what it reads), until `size` records are picked or the stream's start.
   */
  const walkBack = async (
    jsm: JetStreamManager,
    stream: string,
    below: number,
    size: number,
    pick: (msg: StoredMsg) => Promise<EventRecord | undefined>,
  ): Promise<{ items: { record: EventRecord; seq: number }[]; exhausted: boolean }> => {
    const info = await jsm.streams.info(stream);
    const firstSeq = Math.max(1, info.state.first_seq);
    if (info.state.messages === 0) return { items: [], exhausted: true };
    let top = Math.min(below, info.state.last_seq + 1);
    const items: { record: EventRecord; seq: number }[] = [];
    let chunk = size;
    while (top > firstSeq && items.length < size) {
      const from = Math.max(firstSeq, top - chunk);
      chunk = Math.min(MAX_CHUNK, chunk * 2);
      const seqs = Array.from({ length: top - from }, (_, i) => top - 1 - i);
      const msgs = await Promise.all(seqs.map((s) => atSeq(jsm, stream, s)));
      const found = await Promise.all(msgs.map(async (m) => {
        const record = m && await pick(m);
        return record ? { record, seq: m.seq } : undefined;
      }));
      for (const f of found) if (f && items.length < size) items.push(f);
      top = from;
    }
    return { items, exhausted: top <= firstSeq };
  };

  const listFrom = (
    jsm: JetStreamManager,
    source: Source,
    below: number,
    wanted: (r: EventRecord) => boolean,
    nameOk: (name: string) => boolean,
    size: number,
  ) =>
    walkBack(jsm, source.stream, below, size, async (m) => {
      if (!source.first(m) || !nameOk(m.json<Envelope>().name)) return undefined;
      const record = await recordOf(jsm, await complete(jsm, m, source.stream === names.delayedStream));
      return record && wanted(record) ? record : undefined;
    });

  const listDead = async (jsm: JetStreamManager, query: ListQuery): Promise<Page<EventRecord>> => {
    const { name, limit = DEFAULT_LIST_LIMIT, cursor } = query;
    const matches = name === undefined ? () => true : compilePattern(name);
    const below = cursor === undefined ? Infinity : decodePositions(cursor, 1)[0];
    const { items } = await walkBack(jsm, names.deadStream, below, limit + 1, async (m) => {
      const dead = m.json<EventRecord>();
      if (!matches(dead.name)) return undefined;
      const outcome = await readOutcome(jsm, names, dead.id);
      return buildRecord({ dead, outcome: outcome.value }, await known(jsm, dead.name), now());
    });
    const records = items.slice(0, limit).map((i) => i.record);
    return items.length > limit
      ? { items: records, cursor: encodePositions([items[limit - 1].seq]) }
      : { items: records };
  };

  /** A chain's records, filtered and paged by the shared cursor (a chain is read whole: it is small). */
  const listChain = async (jsm: JetStreamManager, query: ListQuery): Promise<Page<EventRecord>> => {
    const { status, name, limit = DEFAULT_LIST_LIMIT, cursor, correlationId } = query;
    const matches = name === undefined ? () => true : compilePattern(name);
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const found = (await chainRecords(jsm, names, correlationId!, (parts) => recordOf(jsm, parts)))
      .filter((r) => (status === undefined || r.status === status) && matches(r.name))
      .filter((r) => !after || r.time < after[0] || (r.time === after[0] && r.id < after[1]))
      .sort(newerFirst);
    return pageOf(found, limit);
  };

  const list = async (jsm: JetStreamManager, query: ListQuery): Promise<Page<EventRecord>> => {
    if (query.correlationId !== undefined) return listChain(jsm, query);
    if (query.status === "dead") return listDead(jsm, query);
    const { status, name, limit = DEFAULT_LIST_LIMIT, cursor } = query;
    const matches = name === undefined ? () => true : compilePattern(name);
    const positions = cursor === undefined
      ? sources.map(() => Number.MAX_SAFE_INTEGER)
      : decodePositions(cursor, sources.length);
    const wanted = (r: EventRecord) => status === undefined || r.status === status;
    const pages = await Promise.all(
      sources.map((s, i) =>
        positions[i] === 0 ? { items: [], exhausted: true } : listFrom(jsm, s, positions[i], wanted, matches, limit + 1)
      ),
    );
    const merged = pages.flatMap((p, i) => p.items.map((item) => ({ ...item, source: i })))
      .sort((a, b) => newerFirst(a.record, b.record));
    const items = merged.slice(0, limit);
    if (merged.length <= limit) return { items: items.map((i) => i.record) };
    const next = positions.map((p, i) => {
      const taken = items.filter((item) => item.source === i);
      if (taken.length > 0) return taken[taken.length - 1].seq;
      return pages[i].items.length === 0 && pages[i].exhausted ? 0 : p;
    });
    return { items: items.map((i) => i.record), cursor: encodePositions(next) };
  };

  const refuse = (): Promise<never> =>
    Promise.reject(
      new EdgebusError("invalid_option", "The NATS store is written by its driver: publish through the bus"),
    );

  return {
    get: (id) =>
      js(async (_, jsm) => recordOf(jsm, (await readParts(jsm, names, id)).parts)).catch((e) => {
        throw unavailable(`read the record of "${id}"`, e);
      }),
    create: refuse,
    put: refuse,
    delete: (id) =>
      js(async (_, jsm) => {
        const dead = await lastOn(jsm, names.deadStream, deadSubject(names, id));
        await Promise.all([
          jsm.streams.purge(names.deadStream, { filter: deadSubject(names, id) }),
          jsm.streams.purge(names.outcomesStream, { filter: outcomeSubject(names, id) }),
          jsm.streams.purge(names.delayedStream, { filter: delayedSubject(names, id) }),
          ...names.routes.map((r) => jsm.streams.purge(r.stream, { filter: eventSubject(r, id) })),
        ]);
        return dead !== undefined;
      }).catch((e) => {
        throw unavailable(`delete the record of "${id}"`, e);
      }),
    list: (query) =>
      js((_, jsm) => list(jsm, query)).catch((e) => {
        throw unavailable("list the records", e);
      }),
    // Only dead letters are counted: they have a stream of their own, one message each. The
    // other statuses would take reading every event.
    count: () =>
      js(async (_, jsm) => ({ dead: (await jsm.streams.info(names.deadStream)).state.messages })).catch((e) => {
        throw unavailable("count the records", e);
      }),
  };
}
