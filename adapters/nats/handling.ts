/**
 * What happens to one delivered message of one handler: the checks before the run (early,
 * cancelled, already done), the run, and the writes after it (result, retry, dead letter), then
 * the ack or nak. The pull loops that deliver the messages are in `consumer.ts`.
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import type { Envelope, HandlerResult } from "../../driver/mod.ts";
import type { ConsumeDeps } from "./consumer.ts";
import { deadSubject, keyToken } from "./names.ts";
import { type EventOutcome, readOutcome, updateOutcome, type Versioned, withResult } from "./outcome.ts";
import { publishRetry } from "./publish.ts";
import type { ConsumerSpec } from "./setup.ts";
import type { FirstDeliveries } from "./fresh.ts";

const NONE: Versioned = { value: undefined, seq: 0 };
const encoder = new TextEncoder();

/** The process's handler slots. */
export interface Gate {
  /** Waits for a free slot; false (and no slot taken) when the process began stopping meanwhile. */
  enter(): Promise<boolean>;
  leave(): void;
}

/** One handler's consumer on one stream, ready to handle messages. */
export interface Lane {
  readonly spec: ConsumerSpec;
  readonly retries: boolean;
  readonly matches: (name: string) => boolean;
  /** On the event consumer's lane: which first deliveries run without the outcome read. */
  readonly first?: FirstDeliveries;
}

/**
 * Whether this delivery should run the handler, given what the handler did before: not when
 * it finished, and not when its next attempt was sent on its own retry subject.
 */
function shouldRun(lane: Lane, previous: HandlerResult | undefined, now: number, lead: number): boolean {
  if (!previous) return true;
  if (previous.status !== "failed") return false;
  return lane.retries || (previous.nextAt ?? 0) <= now + lead;
}

/**
 * Handles one message for one handler: holds back early arrivals with a delayed nak, reads the
 * event's outcome (not for a first delivery the lane trusts, see `fresh.ts`), runs the handler
 * while telling the server it is still working, then saves its result:
 * a retry soon is a delayed nak, a later one a message on the handler's retry subject. Only the
 * handler's run takes one of the process's `handlers` slots, not the reads and writes around it.
 */
export async function handle(
  msg: JsMsg,
  envelope: Envelope,
  lane: Lane,
  deps: ConsumeDeps,
  js: JetStreamClient,
  jsm: JetStreamManager,
  handlers: Gate,
): Promise<void> {
  const { names, now, lead } = deps;
  const early = envelope.due - now();
  if (early > 2) return msg.nak(early);
  const key = lane.spec.key;
  // A first delivery that no disruption can have repeated goes straight to its handler (fresh.ts):
  // after a server crash a consumer may deliver again with a count of 1, and only the outcome
  // says the handler already ran.
  const trusted = envelope.delay === 0 && lane.first?.trusts(msg, envelope.name) === true;
  let known = trusted ? NONE : await readOutcome(jsm, names, envelope.id);
  if (known.value?.cancelled !== undefined) return msg.ack();
  if (envelope.delay > 0 && known.value?.started === undefined) {
    // A delayed event can be cancelled until a handler starts: the start and a cancel are two
    // compare-and-sets on one subject, so exactly one of them wins.
    let cancelled = false;
    const at = now();
    const marked = await updateOutcome(js, jsm, names, envelope.id, (cur) => {
      cancelled = cur?.cancelled !== undefined;
      return cancelled || cur?.started !== undefined
        ? undefined
        : { ...cur, handlers: cur?.handlers ?? {}, started: at };
    }, known);
    if (cancelled) return msg.ack();
    // The version to write the result over (read again when another handler marked it first).
    known = marked ?? await readOutcome(jsm, names, envelope.id);
  }
  const previous = known.value?.handlers[key];
  if (!shouldRun(lane, previous, now(), lead)) return msg.ack();
  const attempt = (previous?.attempts ?? 0) + 1;
  if (!(await handlers.enter())) return msg.nak(); // stopping: another process runs it
  let result: HandlerResult;
  try {
    result = await deps.runner.run({ ...envelope, attempt }, deps.ids.get(key)!, previous);
  } finally {
    handlers.leave();
  }
  const saved = await save(msg, envelope, attempt, key, result, known, deps, js, jsm);
  if (trusted && saved && Object.keys(saved.handlers).some((k) => k !== key)) lane.first?.shared(envelope.name);
}

/**
 * Saves what a handler did: its next attempt when due later than the lead, its result in the
 * outcome, and a dead letter; then acks, or naks for a retry soon. The handler ran, so each
 * write is tried again through a short outage (the message is kept meanwhile) rather than given
 * up and the handler run again. Returns the outcome written.
 */
async function save(
  msg: JsMsg,
  envelope: Envelope,
  attempt: number,
  key: string,
  result: HandlerResult,
  known: Versioned,
  deps: ConsumeDeps,
  js: JetStreamClient,
  jsm: JetStreamManager,
): Promise<EventOutcome | undefined> {
  const { names, now, lead } = deps;
  const wait = result.status === "failed" ? (result.nextAt ?? now()) - now() : 0;
  if (result.status === "failed" && wait > lead) {
    const next: Envelope = { ...envelope, attempt: attempt + 1, due: result.nextAt! };
    const msgId = `${envelope.id}:${keyToken(key)}:${attempt + 1}`;
    await persist(() => publishRetry(js, names, next, key, msgId, { now: now(), lead, timeout: deps.timeout }));
  }
  let seen = known;
  const outcome = await persist(async () => {
    try {
      return await updateOutcome(js, jsm, names, envelope.id, (cur) => withResult(cur, key, result), seen);
    } catch (error) {
      seen = NONE; // read again on the next try
      throw error;
    }
  });
  if (result.status === "dead" && outcome?.value) {
    const dead = { ...envelope, attempt, status: "dead", handlers: outcome.value.handlers, updatedAt: now() };
    const data = encoder.encode(JSON.stringify(dead));
    await persist(() => js.publish(deadSubject(names, envelope.id), data, { timeout: deps.timeout }));
  }
  if (result.status === "failed" && wait <= lead) msg.nak(Math.max(0, wait));
  else msg.ack();
  return outcome?.value;
}

/** Tries a write again with backoff for about 25 s before giving up. */
async function persist<T>(write: () => Promise<T>, tries = 10): Promise<T> {
  for (let i = 1;; i++) {
    try {
      return await write();
    } catch (error) {
      if (i >= tries) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 50 * 2 ** i)));
    }
  }
}
