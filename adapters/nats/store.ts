import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  compilePattern,
  decodeCursor,
  EdgebusError,
  encodeCursor,
  type EventRecord,
  type ListQuery,
  newerFirst,
  type Page,
  type RecordStore,
} from "../../mod.ts";
import { hasApiCode, unavailable, WRONG_LAST_SEQUENCE } from "./errors.ts";
import { nextMessage } from "./messages.ts";
import { type Names, recordSubject } from "./names.ts";

/** Runs a function with a JetStream client and manager. */
export type WithJs = <T>(fn: (js: JetStreamClient, jsm: JetStreamManager) => Promise<T>) => Promise<T>;

/**
 * Adapts a connection getter to a {@linkcode WithJs}, mapping transport failures to `unavailable`.
 *
 * @param use runs a function on a connection
 * @returns the adapter
 */
export function withJs(use: <T>(fn: (nc: NatsConnection) => Promise<T>) => Promise<T>): WithJs {
  // One client and manager per connection: making them on every call costs publish throughput.
  const clients = new WeakMap<NatsConnection, Promise<[JetStreamClient, JetStreamManager]>>();
  const clientsOf = (nc: NatsConnection) => {
    let pair = clients.get(nc);
    if (!pair) {
      pair = jetstreamManager(nc, { checkAPI: false }).then((jsm) => [jetstream(nc), jsm]);
      clients.set(nc, pair);
    }
    return pair;
  };
  return (fn) =>
    use(async (nc) => {
      const [js, jsm] = await clientsOf(nc);
      return fn(js, jsm);
    });
}

const encoder = new TextEncoder();

/** Keeps the `size` newest records seen, in a sorted array (pages are small). */
function keepNewest(top: EventRecord[], record: EventRecord, size: number): void {
  if (top.length === size && newerFirst(record, top[size - 1]) >= 0) return;
  let i = top.length;
  while (i > 0 && newerFirst(record, top[i - 1]) < 0) i--;
  top.splice(i, 0, record);
  if (top.length > size) top.pop();
}

/**
 * Records of one group in a JetStream stream used as a key-value map: one subject per event
 * (`<prefix>.rec.<group>.<id>`), one message per subject. `create` is atomic per record with an
 * expected last subject sequence, as a KV `create` is.
 *
 * `list` reads the group's records once through an ordered consumer and keeps only one page in
 * memory: its time grows with the number of records kept, not with the page size.
 *
 * @param names the derived names
 * @param js runs JetStream calls
 * @returns the store
 */
export function natsStore(names: Names, js: WithJs): RecordStore {
  const stream = names.recordsStream;

  const read = (jsm: JetStreamManager, id: string) =>
    jsm.streams.getMessage(stream, { last_by_subj: recordSubject(names, id) });

  const createOne = async (client: JetStreamClient, jsm: JetStreamManager, record: EventRecord, since: number) => {
    const data = encoder.encode(JSON.stringify(record));
    let expected = 0;
    for (let tries = 0; tries < 5; tries++) {
      try {
        await client.publish(recordSubject(names, record.id), data, { expect: { lastSubjectSequence: expected } });
        return true;
      } catch (error) {
        if (!hasApiCode(error, WRONG_LAST_SEQUENCE)) throw error;
      }
      const existing = await read(jsm, record.id);
      if (existing && (existing.json<EventRecord>()).time >= since) return false;
      expected = existing?.seq ?? 0; // stale or gone: overwrite exactly the version seen
    }
    throw new EdgebusError("conflict", `Cannot publish "${record.id}": the record kept changing while it was created`);
  };

  return {
    get: (id) =>
      js(async (_, jsm) => (await read(jsm, id))?.json<EventRecord>()).catch((e) => {
        throw unavailable(`read the record of "${id}"`, e);
      }),
    create: (records, since) =>
      js((client, jsm) => Promise.all(records.map((r) => createOne(client, jsm, r, since)))).catch((e) => {
        throw unavailable("store the records of the events", e);
      }),
    put: (record) =>
      js(async (client) => {
        await client.publish(recordSubject(names, record.id), encoder.encode(JSON.stringify(record)));
      }).catch((e) => {
        throw unavailable(`save the record of "${record.id}"`, e);
      }),
    delete: (id) =>
      js(async (_, jsm) => (await jsm.streams.purge(stream, { filter: recordSubject(names, id) })).purged > 0).catch(
        (e) => {
          throw unavailable(`delete the record of "${id}"`, e);
        },
      ),
    list: (query) =>
      js((client, jsm) => listRecords(client, jsm, names, query)).catch((e) => {
        throw unavailable("list the records", e);
      }),
  };
}

async function listRecords(
  client: JetStreamClient,
  jsm: JetStreamManager,
  names: Names,
  query: ListQuery,
): Promise<Page<EventRecord>> {
  const { status, name, limit = 50, cursor } = query;
  const matches = name === undefined ? undefined : compilePattern(name);
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  const filter = `${names.prefix}.rec.${names.group}.>`;
  const top: EventRecord[] = [];
  const wanted = (record: EventRecord): boolean =>
    (status === undefined || record.status === status) && (!matches || matches(record.name)) &&
    (!after || record.time < after[0] || (record.time === after[0] && record.id < after[1]));
  // An empty group would make the fetch below wait for its expiry.
  if (!(await nextMessage(jsm, names.recordsStream, filter, 0))) return { items: [] };
  const consumer = await client.consumers.get(names.recordsStream, { filter_subjects: filter });
  try {
    let pending = 1;
    while (pending > 0) {
      const batch = await consumer.fetch({ max_messages: 500, expires: 2_000 });
      let got = 0;
      for await (const msg of batch) {
        got++;
        pending = msg.info.pending;
        const record = msg.json<EventRecord>();
        if (wanted(record)) keepNewest(top, record, limit + 1);
        if (pending === 0) break;
      }
      if (got === 0) break;
    }
  } finally {
    await consumer.delete().catch(() => {});
  }
  const items = top.slice(0, limit);
  return top.length > limit ? { items, cursor: encodeCursor(items[items.length - 1]) } : { items };
}
