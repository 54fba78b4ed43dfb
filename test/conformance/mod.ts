/**
 * The driver conformance suite: every behaviour of the bus that a driver can affect. A driver
 * passes it by calling `runDriverConformance({ name, create })` from a test file.
 */
import { describe } from "../lib/t.ts";
import { deliveryCases } from "./delivery.ts";
import { recordCases } from "./records.ts";
import { retryCases } from "./retries.ts";
import type { ConformanceOptions } from "./setup.ts";

export type { ConformanceOptions } from "./setup.ts";

/** Registers the whole suite for one driver. */
export function runDriverConformance(options: ConformanceOptions): void {
  describe(`conformance: ${options.name}`, () => {
    deliveryCases(options);
    retryCases(options);
    recordCases(options);
  });
}
