import { type Bus, type BusOptions, createBus, type Driver, type RecordStore } from "../mod.ts";

/**
 * The caller's test runner: a function that registers one test. vitest's and `bun:test`'s
 * `test` fit as they are; for Deno pass
 * `(name, fn) => Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false })`.
 */
export type TestFunction = (name: string, fn: () => Promise<void>, timeout?: number) => unknown;

/** How a driver under test is made, and what it cannot do. */
export interface ConformanceOptions {
  /** The driver's name, shown in test names. */
  readonly name: string;
  /** A fresh, isolated driver for one test: its store holds no record yet. */
  readonly create: () => Driver | Promise<Driver>;
  /** Registers one test with the caller's runner (see {@linkcode TestFunction}). */
  readonly test: TestFunction;
  /**
   * Makes a fresh driver on the given clock, for the cases that move time (schedules catching up
   * ticks the clock jumped over). A driver that cannot take a clock skips those cases with the
   * reason.
   */
  readonly createWithClock?: (now: () => number) => Driver | Promise<Driver>;
  /** Removes what `create` made (streams, servers), after each test. */
  readonly cleanup?: () => void | Promise<void>;
  /** How long to wait for a delivery, ms. @default {5000} */
  readonly patience?: number;
  /** Each test's time limit, ms, passed to `test` as its third argument. @default {20000} */
  readonly timeout?: number;
  /**
   * Cases the driver cannot pass, by case name (without the `conformance: <name> > ` prefix),
   * each with the reason. A skipped case still registers a test, named with the reason, that
   * checks the reason is given; a name that is no case of the suite fails a test of its own.
   * @default {{}}
   */
  readonly skip?: Readonly<Record<string, string>>;
  /**
   * The driver delivers each handler on its own (NATS: one consumer per handler), so handlers of
   * one event run in no set order; the cases on order check each handler's own record instead.
   * @default {false}
   */
  readonly independentHandlers?: boolean;
  /**
   * The driver keeps records itself and takes no queue batches: `handleBatch` must refuse, typed.
   * @default {false}
   */
  readonly noBatches?: boolean;
}

/** Registers one case of the suite: a name and its body. */
export type Register = (name: string, fn: () => Promise<void>) => void;

/** A quick, deterministic retry policy so that retry tests take milliseconds. */
export const fastRetry = { minDelay: 50, maxDelay: 50, multiplier: 1, jitter: 0, maxAttempts: 3 };

/**
 * Makes a bus over a fresh driver, runs `fn`, then stops the bus and cleans up.
 *
 * @param options how the driver is made
 * @param busOptions the bus's options, over a fast retry policy
 * @param fn the test
 * @returns the test body
 */
export function withBus(
  options: ConformanceOptions,
  busOptions: Omit<BusOptions, "driver">,
  fn: (bus: Bus) => Promise<void>,
): () => Promise<void> {
  return async () => {
    const driver = await options.create();
    const bus = createBus({ retry: fastRetry, gracePeriod: 1_000, ...busOptions, driver });
    await bus.start();
    try {
      await fn(bus);
    } finally {
      await bus.stop();
      await options.cleanup?.();
    }
  };
}

/**
 * Runs `fn` on a fresh driver's store, without a bus, then stops the driver and cleans up.
 *
 * @param options how the driver is made
 * @param fn the test
 * @returns the test body
 */
export function withStore(options: ConformanceOptions, fn: (store: RecordStore) => Promise<void>): () => Promise<void> {
  return async () => {
    const driver = await options.create();
    try {
      await fn(driver.store);
    } finally {
      await driver.stop();
      await options.cleanup?.();
    }
  };
}
