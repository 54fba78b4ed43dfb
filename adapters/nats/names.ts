import { compilePattern, EdgebusError, type Envelope, type Matcher } from "../../mod.ts";

/** A stream of events and the event names routed to it. */
export interface Route {
  /** The JetStream stream name. */
  readonly stream: string;
  /** The subject prefix of its events: `<prefix>.ev.<stream>`. */
  readonly base: string;
  /** Whether an event name goes to this stream; the default stream takes every name. */
  readonly matches: Matcher;
}

/** Every name the driver derives from its options, computed once. */
export interface Names {
  readonly prefix: string;
  readonly group: string;
  readonly routes: readonly Route[];
  readonly scheduleStream: string;
  readonly recordsStream: string;
  readonly metaStream: string;
}

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Checks a name used as a subject token and a stream or consumer name.
 *
 * @param what which option, for the message
 * @param value the value seen
 * @returns the value
 * @throws {EdgebusError} code `invalid_option`
 */
export function assertToken(what: string, value: string): string {
  if (typeof value !== "string" || !TOKEN.test(value)) {
    throw new EdgebusError(
      "invalid_option",
      `Invalid ${what} ${JSON.stringify(value)}: use 1 to 64 characters of letters, digits, _ and -`,
    );
  }
  return value;
}

/**
 * Derives stream names and subjects from the driver's options.
 *
 * @param prefix the subject prefix, also the stream name prefix (upper-cased)
 * @param group the consumer group
 * @param routes extra event streams by name, each with the name patterns it takes
 * @returns the names
 */
export function deriveNames(
  prefix: string,
  group: string,
  routes: Readonly<Record<string, readonly string[]>>,
): Names {
  assertToken("prefix", prefix);
  assertToken("group", group);
  const upper = prefix.toUpperCase();
  const list: Route[] = Object.entries(routes).map(([stream, patterns]) => {
    assertToken("route stream name", stream);
    const matchers = patterns.map((p) => compilePattern(p));
    return { stream, base: `${prefix}.ev.${stream}`, matches: (name: string) => matchers.some((m) => m(name)) };
  });
  const main = `${upper}_EVENTS`;
  list.push({ stream: main, base: `${prefix}.ev.${main}`, matches: () => true });
  return {
    prefix,
    group,
    routes: list,
    scheduleStream: `${upper}_SCHEDULE`,
    recordsStream: `${upper}_RECORDS`,
    metaStream: `${upper}_META`,
  };
}

/** The route of an event name: the first route whose patterns match, else the default stream. */
export function routeOf(names: Names, eventName: string): Route {
  return names.routes.find((r) => r.matches(eventName))!;
}

/** Event ids may hold `.`, which splits NATS subject tokens; `~` never appears in an id. */
export function idToken(id: string): string {
  return id.replaceAll(".", "~");
}

/** The subject of a record of this group. */
export function recordSubject(names: Names, id: string): string {
  return `${names.prefix}.rec.${names.group}.${idToken(id)}`;
}

/** The core NATS subject (no stream) on which cancellations reach the scheduler's held events. */
export function cancelSubject(names: Names): string {
  return `${names.prefix}.cancels`;
}

/** The subject of the scheduler's lease. */
export function leaseSubject(names: Names): string {
  return `${names.prefix}.meta.lease`;
}

/** Length of a schedule bucket, ms. */
export const BUCKET_MS = 1_000;
/** Buckets (seconds) per minute and per hour: empty minutes and hours are skipped with one lookup. */
export const SPANS = [3_600, 60] as const;

/** The subject of a schedule bucket: `<prefix>.sched.<hour>.<minute>.<second>`, all since the epoch. */
export function bucketSubject(names: Names, bucket: number): string {
  return `${names.prefix}.sched.${Math.floor(bucket / 3_600)}.${Math.floor(bucket / 60)}.${bucket}`;
}

/** The subject matching every bucket of the hour or minute (`span` seconds) holding `bucket`. */
export function spanSubject(names: Names, bucket: number, span: number): string {
  const hour = Math.floor(bucket / 3_600);
  return span === 3_600
    ? `${names.prefix}.sched.${hour}.>`
    : `${names.prefix}.sched.${hour}.${Math.floor(bucket / span)}.*`;
}

/**
 * The `Nats-Msg-Id` of an envelope: the event id for its first delivery, and the id with the
 * attempt, due time and (for retries) group for later ones, so a replay or retry is not taken
 * for a duplicate while the same move repeated by a second scheduler is.
 */
export function msgId(envelope: Envelope, group?: string): string {
  const first = envelope.attempt === 1 && envelope.due === envelope.time + envelope.delay;
  if (first && group === undefined) return envelope.id;
  return `${envelope.id}:${envelope.attempt}:${envelope.due}${group === undefined ? "" : `:${group}`}`;
}
