/**
 * The scheduler's walk over the schedule's buckets, with the lease, the mover and the reads
 * faked: what it does when a bucket's read fails half-way is decided here, not by NATS, and a
 * failure at one chosen bucket cannot be caused on a real server on demand.
 */
import assert from "node:assert/strict";
import type { WithJs } from "../../adapters/nats/store.ts";
import type { Lease } from "../../adapters/nats/lease.ts";
import type { Mover } from "../../adapters/nats/mover.ts";
import { BUCKET_MS, deriveNames } from "../../adapters/nats/names.ts";
import { startScheduler } from "../../adapters/nats/scheduler.ts";
import { describe, eventually, test } from "../lib/t.ts";

describe("nats scheduler", () => {
  test("a bucket whose read failed half-way is read again in a later round", async () => {
    const now = 1_700_000_000_000;
    const last = Math.floor(now / BUCKET_MS);
    const failing = last - 1;
    let cursor = last - 2;
    // Cursors saved past the failing bucket before it was read to the end: its events would be lost to a new holder.
    const passed: number[] = [];
    const lease: Lease = {
      acquire: () => Promise.resolve(cursor),
      save: (next) => {
        if (next > failing && reads.filter((b) => b === failing).length < 2) passed.push(next);
        cursor = next;
        return Promise.resolve(true);
      },
      release: () => Promise.resolve(),
      expires: () => 0,
    };
    const reads: number[] = [];
    const mover: Mover = {
      read(_client, _jsm, bucket) {
        reads.push(bucket);
        // The first read of this bucket stops half-way: a lookup unanswered during an election.
        if (bucket === failing && reads.filter((b) => b === failing).length === 1) {
          return Promise.reject(new Error("timeout"));
        }
        return Promise.resolve({ settled: Promise.resolve() });
      },
      cancelAll() {},
    };
    const js: WithJs = (fn) => fn({} as never, {} as never);
    const scheduler = startScheduler({
      names: deriveNames("sched", "default", {}),
      js,
      lease,
      mover,
      now: () => now,
      tick: 5,
      lead: 0,
      grace: 0,
      next: () => Promise.resolve(null),
    });
    try {
      await eventually(() => reads.filter((b) => b === failing).length >= 2, 2_000);
    } finally {
      await scheduler.stop();
    }
    assert.deepEqual(passed, []);
  });
});
