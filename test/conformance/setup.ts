import type { Bus, BusOptions, Driver } from "../../mod.ts";
import { createBus } from "../../mod.ts";

/** How a driver under test is made. */
export interface ConformanceOptions {
  /** The driver's name, shown in test names. */
  readonly name: string;
  /** A fresh, isolated driver for one test. */
  readonly create: () => Driver | Promise<Driver>;
  /** How long to wait for a delivery, ms. @default {5000} */
  readonly patience?: number;
  /**
   * The driver delivers each handler on its own (NATS: one consumer per handler), so handlers of
   * one event run in no set order; the cases on order check each handler's own record instead.
   */
  readonly independentHandlers?: boolean;
  /** The driver keeps records itself and takes no queue batches: `handleBatch` must refuse, typed. */
  readonly noBatches?: boolean;
  /** Removes what `create` made (streams, servers), after each test. */
  readonly cleanup?: () => void | Promise<void>;
}

/** A quick, deterministic retry policy so that retry tests take milliseconds. */
export const fastRetry = { minDelay: 50, maxDelay: 50, multiplier: 1, jitter: 0, maxAttempts: 3 };

/** Makes a bus over a fresh driver, runs `fn`, then stops the bus and cleans up. */
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
