import { type Deadline, deadlines, type Expiring } from "./deadlines.ts";
import { EdgebusError } from "./errors.ts";
import type { Event, Handler, HandlerContext, Publisher } from "./types.ts";

/** The longest timer a runtime arms correctly (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647;

/** How a handler run ended. */
export type RunResult = { readonly ok: true } | { readonly ok: false; readonly error: unknown };

/** Raised inside a run whose time ran out. */
export class HandlerTimeoutError extends Error {
  /**
   * Makes the error.
   *
   * @param handlerId the handler
   * @param ms the timeout that passed
   */
  constructor(handlerId: string, ms: number) {
    super(`Handler "${handlerId}" did not finish within ${ms} ms`);
    this.name = "TimeoutError";
  }
}

/**
 * Checks a timeout: a whole number of ms from 1 up to the longest timer.
 *
 * @param ms the timeout
 * @param what what the timeout is of, for the message
 * @throws {EdgebusError} code `invalid_option`
 */
export function assertTimeout(ms: unknown, what: string): asserts ms is number {
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 1 || ms > MAX_TIMER_MS) {
    throw new EdgebusError(
      "invalid_option",
      `Invalid timeout for ${what}: expected whole ms from 1 to ${MAX_TIMER_MS}, got ${String(ms)}`,
    );
  }
}

/** A run that shutdown can end. */
export interface Stoppable {
  /** Ends the run at once as stopped by shutdown. */
  stop(): void;
}

/** Lets runs learn of shutdown without one listener each on a shared signal. */
export interface Shutdown {
  /** True once the bus has aborted its handlers. */
  readonly aborted: boolean;
  /** Tells `run` of shutdown until it is forgotten. */
  add(run: Stoppable): void;
  /** Forgets a run that ended. */
  delete(run: Stoppable): void;
}

/** What one run needs. */
export interface RunInput {
  readonly handlerId: string;
  readonly handler: Handler;
  readonly event: Event;
  readonly timeout: number;
  /** Makes the run's publisher, the first time the handler publishes (most never do). */
  readonly publisher: () => Publisher;
  readonly shutdown: Shutdown;
}

const OK: RunResult = { ok: true };
const RESOLVED_OK: Promise<RunResult> = Promise.resolve(OK);
// One timer for every run's timeout: most runs end long before it, and a runtime timer armed
// and cleared per run costs more than the run of a small handler.
const timeouts = deadlines();

/**
 * One handler run's state, in one object: its deadline and shutdown entries point at it rather
 * than at closures of their own (a run of a small handler costs less than these would).
 */
class Run implements Stoppable, Expiring {
  settled = false;
  ms: number;
  deadline: Deadline | undefined = undefined;
  controller: AbortController | undefined = undefined;
  reason: unknown = undefined;
  publisher: Publisher | undefined = undefined;
  resolve: ((result: RunResult) => void) | undefined = undefined;
  /** How it ended, when it ended before anything waited for it. */
  result: RunResult | undefined = undefined;

  constructor(readonly input: RunInput) {
    this.ms = input.timeout;
  }

  expire(): void {
    this.end(new HandlerTimeoutError(this.input.handlerId, this.ms));
  }

  stop(): void {
    this.end(new EdgebusError("stopped", `Handler "${this.input.handlerId}" was stopped by shutdown`));
  }

  end(error: unknown): void {
    if (this.settled) return;
    this.reason = error;
    this.controller?.abort(error);
    this.finish({ ok: false, error });
  }

  finish(result: RunResult): void {
    if (this.settled) return;
    this.settled = true;
    this.deadline?.cancel();
    this.input.shutdown.delete(this);
    if (this.resolve) this.resolve(result);
    else this.result = result;
  }

  arm(ms: number): void {
    assertTimeout(ms, `handler "${this.input.handlerId}"`);
    if (this.settled) return;
    this.deadline?.cancel();
    this.ms = ms;
    this.deadline = timeouts.add(ms, this);
  }

  signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.reason !== undefined && !this.controller.signal.aborted) this.controller.abort(this.reason);
    return this.controller.signal;
  }

  publish(args: unknown[]): Promise<string> {
    return ((this.publisher ??= this.input.publisher()).publish as (...a: unknown[]) => Promise<string>)(...args);
  }
}

/**
 * Runs one handler under its timeout. The handler's `signal` aborts on timeout and on
 * shutdown; either ends the run as a failure at once, without waiting for a handler that
 * ignores its signal. The signal and the publisher are made only if the handler uses them:
 * most never do.
 *
 * @param input the handler, the event and the limits
 * @returns whether it succeeded, and the error when not
 */
export function runHandler(input: RunInput): Promise<RunResult> {
  const { handlerId, handler, event, shutdown } = input;
  if (shutdown.aborted) {
    const error = new EdgebusError("stopped", `Handler "${handlerId}" was not run: the bus is stopping`);
    return Promise.resolve({ ok: false, error });
  }
  const run = new Run(input);
  const ctx: HandlerContext = {
    get signal(): AbortSignal {
      return run.signal();
    },
    setTimeout: (ms: number) => run.arm(ms),
    publish: ((...args: unknown[]) => run.publish(args)) as Publisher["publish"],
  };
  try {
    run.arm(input.timeout);
    shutdown.add(run);
    const value = handler(event, ctx) as PromiseLike<unknown> | undefined;
    if (value !== null && typeof value === "object" && typeof value.then === "function") {
      value.then(() => run.finish(OK), (error: unknown) => run.finish({ ok: false, error }));
    } else run.finish(OK);
  } catch (error) {
    run.finish({ ok: false, error });
  }
  // Ended already (most handlers of a few lines): no promise of its own to make.
  if (run.result === OK) return RESOLVED_OK;
  if (run.result) return Promise.resolve(run.result);
  return new Promise<RunResult>((resolve) => (run.resolve = resolve));
}
