/**
 * The driver conformance suite: every behaviour of the bus that a driver can affect, and the
 * rules of its record store, as tests for the caller's own runner. A driver passes it by
 * calling {@linkcode runDriverConformance} from one test file; every driver of edgebus does.
 *
 * The suite imports no test framework and nothing runtime-specific (its few assertions are its
 * own), so it runs under vitest, `bun:test`, `deno test` and inside workerd alike: the caller
 * hands it the runner's `test` function.
 *
 * @example With vitest (or `bun:test`: import `test` from there)
 * ```ts ignore
 * import { test } from "vitest";
 * import { runDriverConformance } from "@edgebus/edgebus/testing";
 * import { myDriver } from "./my_driver.ts";
 *
 * runDriverConformance({
 *   name: "my driver",
 *   create: () => myDriver({ prefix: crypto.randomUUID() }),
 *   test,
 *   skip: { "cancel() removes a delayed event before delivery": "the transport cannot take a message back" },
 * });
 * ```
 *
 * @example With Deno
 * ```ts ignore
 * import { memoryDriver } from "@edgebus/edgebus";
 * import { runDriverConformance } from "@edgebus/edgebus/testing";
 *
 * runDriverConformance({
 *   name: "memory",
 *   create: () => memoryDriver(),
 *   test: (name, fn) => Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false }),
 * });
 * ```
 *
 * @module
 */
import { assert } from "./assert.ts";
import { chainCases } from "./chains.ts";
import { deliveryCases } from "./delivery.ts";
import { recordCases } from "./records.ts";
import { retryCases } from "./retries.ts";
import { scheduleCases } from "./schedules.ts";
import type { ConformanceOptions, Register } from "./setup.ts";
import { storeCases } from "./store.ts";

export type { ConformanceOptions, TestFunction } from "./setup.ts";

/**
 * Registers the whole suite for one driver, each case as a test named
 * `conformance: <name> > <case>`: delivery, retries and dead letters, records (dedup, cancel,
 * batches, listing, shutdown), schedules through a bus over the driver, then its record store on its own.
 *
 * A case named in `skip` registers a test named with the reason instead, which fails when the
 * reason is empty; a `skip` entry that names no case fails a test of its own. Nothing is skipped
 * silently.
 *
 * @param options how to make the driver, the runner's `test`, and what the driver cannot do
 * @throws {TypeError} when `test` or `create` is not a function
 *
 * @example The memory driver, under vitest
 * ```ts ignore
 * import { test } from "vitest";
 * import { memoryDriver } from "@edgebus/edgebus";
 * import { runDriverConformance } from "@edgebus/edgebus/testing";
 *
 * runDriverConformance({ name: "memory", create: () => memoryDriver(), test });
 * ```
 */
export function runDriverConformance(options: ConformanceOptions): void {
  const { name, test, skip = {}, timeout = 20_000 } = options;
  if (typeof test !== "function" || typeof options.create !== "function") {
    throw new TypeError(
      `Cannot run the conformance suite for ${JSON.stringify(name)}: pass create() and the runner's test function`,
    );
  }
  const title = (what: string): string => `conformance: ${name} > ${what}`;
  const seen = new Set<string>();
  const register: Register = (caseName, fn) => {
    seen.add(caseName);
    if (!Object.hasOwn(skip, caseName)) {
      test(title(caseName), fn, timeout);
      return;
    }
    const reason = skip[caseName];
    test(title(`${caseName} (skipped: ${reason})`), () => {
      assert.ok(typeof reason === "string" && reason.trim() !== "", `The skip of "${caseName}" gives no reason`);
      return Promise.resolve();
    }, timeout);
  };
  deliveryCases(options, register);
  retryCases(options, register);
  recordCases(options, register);
  chainCases(options, register);
  scheduleCases(options, register);
  storeCases(options, register);
  const unknown = Object.keys(skip).filter((key) => !seen.has(key));
  if (unknown.length > 0) {
    test(title("skip names only cases of the suite"), () => {
      assert.deepEqual(unknown, [], "skip names cases the suite does not have");
      return Promise.resolve();
    }, timeout);
  }
}
