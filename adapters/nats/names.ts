import { EdgebusError } from "../../mod.ts";
import { compilePattern, fnv1a, type Matcher } from "../../driver/mod.ts";

/** An event stream and the event names routed to it. */
export interface Route {
  /** The JetStream stream name. */
  readonly stream: string;
  /** Events published now (or moved when due): `<prefix>.ev.<stream>.<id>`. */
  readonly events: string;
  /** Handler retries and replays: `<prefix>.re.<stream>.<handler key>.<id>`. */
  readonly retries: string;
  /** Whether an event name goes to this stream; the default stream takes every name. */
  readonly matches: Matcher;
}

/** Every name the driver derives from its options, computed once. */
export interface Names {
  readonly prefix: string;
  readonly group: string;
  readonly routes: readonly Route[];
  /** Delayed events waiting, by due second. */
  readonly scheduleStream: string;
  /** The first version of each delayed event, by id: what `get` and `list` show until it is due. */
  readonly delayedStream: string;
  /** Each event's handler results and cancellation, by id: one message per event. */
  readonly outcomesStream: string;
  /** Dead letters, by id, until replayed or deleted. */
  readonly deadStream: string;
  /** The scheduler's lease. */
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
 * @param group names this process's handlers apart from another service's with the same ids
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
  const route = (stream: string, matches: Matcher): Route => ({
    stream,
    events: `${prefix}.ev.${stream}`,
    retries: `${prefix}.re.${stream}`,
    matches,
  });
  const list: Route[] = Object.entries(routes).map(([stream, patterns]) => {
    assertToken("route stream name", stream);
    const matchers = patterns.map((p) => compilePattern(p));
    return route(stream, (name: string) => matchers.some((m) => m(name)));
  });
  list.push(route(`${upper}_EVENTS`, () => true));
  return {
    prefix,
    group,
    routes: list,
    scheduleStream: `${upper}_SCHEDULE`,
    delayedStream: `${upper}_DELAYED`,
    outcomesStream: `${upper}_OUTCOMES`,
    deadStream: `${upper}_DEAD`,
    metaStream: `${upper}_META`,
  };
}

/** The route of an event name: the first route whose patterns match, else the default stream. */
export function routeOf(names: Names, eventName: string): Route {
  return names.routes.find((r) => r.matches(eventName))!;
}

/** Event ids may hold `.`, which splits NATS subject tokens; `~` never appears in an id. */
export function idToken(id: string): string {
  return id.includes(".") ? id.replaceAll(".", "~") : id;
}

/** The id a subject's last token names. */
export function idOfToken(token: string): string {
  return token.replaceAll("~", ".");
}

/** The subject of an event published now, or moved when due. */
export function eventSubject(route: Route, id: string): string {
  return `${route.events}.${idToken(id)}`;
}

/** The subject of a delayed event's first version. */
export function delayedSubject(names: Names, id: string): string {
  return `${names.prefix}.dl.${idToken(id)}`;
}

/** The subject of an event's outcome: handler results and cancellation. */
export function outcomeSubject(names: Names, id: string): string {
  return `${names.prefix}.out.${idToken(id)}`;
}

/** The subject of a dead letter. */
export function deadSubject(names: Names, id: string): string {
  return `${names.prefix}.dead.${idToken(id)}`;
}

/** The subject of a retry or replay of one handler. */
export function retrySubject(route: Route, handlerKey: string, id: string): string {
  return `${route.retries}.${keyToken(handlerKey)}.${idToken(id)}`;
}

/** The subject of the scheduler's lease. */
export function leaseSubject(names: Names): string {
  return `${names.prefix}.meta.lease`;
}

const base36 = (n: number): string => n.toString(36).padStart(7, "0");

/**
 * A handler key as a subject token and consumer name: handler ids may hold characters
 * (`#`, `.`, `>`) that subjects and consumer names cannot, so the key is hashed (64 bits).
 */
export function keyToken(handlerKey: string): string {
  return `${base36(fnv1a(handlerKey))}${base36(fnv1a(handlerKey, 0x050c5d1f))}`;
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
