import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { EdgebusError } from "../../mod.ts";
import type { Envelope, HandlerResult } from "../../driver/mod.ts";
import { hasApiCode, WRONG_LAST_SEQUENCE } from "./errors.ts";
import { type Names, outcomeSubject } from "./names.ts";
import { LAST_SUBJECT_SEQUENCE, pipeOf } from "./pipe.ts";

/** What became of an event so far: one message per event, changed by compare-and-set. */
export interface EventOutcome {
  /** Results by handler key. */
  readonly handlers: Readonly<Record<string, HandlerResult>>;
  /** When a handler first started on a delayed event, epoch ms: it can no longer be cancelled. */
  readonly started?: number;
  /** Handler keys run again by a replay: the event waits for them, whatever the registry says. */
  readonly replayed?: readonly string[];
  /** When it was cancelled, epoch ms. */
  readonly cancelled?: number;
  /** The envelope, kept with a cancellation (a cancelled delayed event never reaches its stream). */
  readonly envelope?: Envelope;
  /**
   * Ids of the events the handlers published through `ctx.publish` (kept here as well as in each
   * result, since a replay clears the results of the handlers it runs again): a chain is walked
   * from its root through these, without a write of its own per publish.
   */
  readonly published?: readonly string[];
  /**
   * Ids of events published with this event's id as their explicit `correlationId` and no
   * parent (the outcome of an id that is no event may hold only this): the only publishes
   * that pay a second write, so that their chain finds them.
   */
  readonly linked?: readonly string[];
}

/** An outcome and the stream sequence it was read at (0: none yet). */
export interface Versioned {
  readonly value: EventOutcome | undefined;
  readonly seq: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NONE: Versioned = { value: undefined, seq: 0 };
/** ms an outcome's read or write waits for JetStream: nats.js's default for both. */
const REQUEST_TIMEOUT = 5_000;

/**
 * Reads an event's outcome.
 *
 * @param jsm the JetStream manager
 * @param names the derived names
 * @param id the event id
 * @returns the outcome and its version
 */
export async function readOutcome(jsm: JetStreamManager, names: Names, id: string): Promise<Versioned> {
  const pipe = pipeOf(jsm);
  if (pipe) {
    const found = await pipe.last(names.outcomesStream, outcomeSubject(names, id), REQUEST_TIMEOUT);
    return found ? { value: JSON.parse(decoder.decode(found.data)), seq: found.seq } : NONE;
  }
  const msg = await jsm.direct.getMessage(names.outcomesStream, { last_by_subj: outcomeSubject(names, id) });
  return msg ? { value: msg.json<EventOutcome>(), seq: msg.seq } : NONE;
}

/**
 * Changes an event's outcome by compare-and-set, reading it again when another process wrote
 * first, so that results written at once by several handlers (in several processes) all stay.
 *
 * @param client the JetStream client
 * @param jsm the JetStream manager
 * @param names the derived names
 * @param id the event id
 * @param change the new outcome from the current one, or `undefined` to write nothing
 * @param known the version already read, if any (saves a read when nobody wrote since)
 * @returns what was written and its sequence, or `undefined` when `change` declined
 */
export async function updateOutcome(
  client: JetStreamClient,
  jsm: JetStreamManager,
  names: Names,
  id: string,
  change: (current: EventOutcome | undefined) => EventOutcome | undefined,
  known: Versioned = NONE,
): Promise<Versioned | undefined> {
  let current = known;
  for (let tries = 0; tries < 20; tries++) {
    const next = change(current.value);
    if (!next) return undefined;
    try {
      const subject = outcomeSubject(names, id);
      const data = encoder.encode(JSON.stringify(next));
      const pipe = pipeOf(client);
      const ack = pipe
        ? await pipe.publish(subject, data, [[LAST_SUBJECT_SEQUENCE, String(current.seq)]], REQUEST_TIMEOUT)
        : await client.publish(subject, data, { expect: { lastSubjectSequence: current.seq } });
      return { value: next, seq: ack.seq };
    } catch (error) {
      if (!hasApiCode(error, WRONG_LAST_SEQUENCE)) throw error;
    }
    current = await readOutcome(jsm, names, id);
  }
  throw new EdgebusError("conflict", `Cannot save the outcome of "${id}": it kept changing under the write`);
}

/**
 * Merges one handler's new result into an outcome. Runs of the same handler in two processes
 * (a redelivery after the ack wait) both count, and a result never turns a `done` back.
 *
 * @param current the outcome read
 * @param key the handler key
 * @param result what this run did
 * @returns the outcome to write
 */
export function withResult(current: EventOutcome | undefined, key: string, result: HandlerResult): EventOutcome {
  const before = current?.handlers[key];
  const attempts = Math.max(result.attempts, (before?.attempts ?? 0) + 1);
  const merged: HandlerResult = before?.status === "done" ? { ...before, attempts } : { ...result, attempts };
  const published = union(current?.published, result.published);
  return { ...current, handlers: { ...current?.handlers, [key]: merged }, ...(published ? { published } : {}) };
}

/**
 * Ids in `a` and then those of `b` not in `a`, or `undefined` when both are empty.
 *
 * @param a some ids
 * @param b more ids
 * @returns the union, in order
 */
export function union(a: readonly string[] = [], b: readonly string[] = []): string[] | undefined {
  const all = [...new Set([...a, ...b])];
  return all.length > 0 ? all : undefined;
}
