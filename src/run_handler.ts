import { type Deadline, deadlines } from "./deadlines.ts";
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

/** Lets runs learn of shutdown without one listener each on a shared signal. */
export interface Shutdown {
  /** True once the bus has aborted its handlers. */
  readonly aborted: boolean;
  /** Calls `fn` on shutdown; returns a function that forgets it. */
  onAbort(fn: () => void): () => void;
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
// One timer for every run's timeout: most runs end long before it, and a runtime timer armed
// and cleared per run costs more than the run of a small handler.
const timeouts = deadlines();

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
  return new Promise<RunResult>((resolve) => {
    let controller: AbortController | undefined;
    let reason: unknown;
    let publisher: Publisher | undefined;
    let deadline: Deadline | undefined;
    let settled = false;
    const finish = (result: RunResult): void => {
      if (settled) return;
      settled = true;
      deadline?.cancel();
      forget();
      resolve(result);
    };
    const end = (error: unknown): void => {
      if (settled) return;
      reason = error;
      controller?.abort(error);
      finish({ ok: false, error });
    };
    const arm = (ms: number): void => {
      assertTimeout(ms, `handler "${handlerId}"`);
      if (settled) return;
      deadline?.cancel();
      deadline = timeouts.add(ms, () => end(new HandlerTimeoutError(handlerId, ms)));
    };
    const forget = shutdown.onAbort(() =>
      end(new EdgebusError("stopped", `Handler "${handlerId}" was stopped by shutdown`))
    );
    const ctx: HandlerContext = {
      get signal(): AbortSignal {
        controller ??= new AbortController();
        if (reason !== undefined && !controller.signal.aborted) controller.abort(reason);
        return controller.signal;
      },
      setTimeout: arm,
      publish: ((...args: unknown[]) =>
        ((publisher ??= input.publisher()).publish as (...a: unknown[]) => Promise<string>)(...args)) as Publisher[
          "publish"
        ],
    };
    try {
      arm(input.timeout);
      const value = handler(event, ctx) as PromiseLike<unknown> | undefined;
      if (value !== null && typeof value === "object" && typeof value.then === "function") {
        value.then(() =>
          finish(OK), (error: unknown) => finish({ ok: false, error }));
      } else finish(OK);
    } catch (error) {
      finish({ ok: false, error });
    }
  });
}
