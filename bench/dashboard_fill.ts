/**
 * Records for the dashboard bench, made directly (the fastest honest way to hold 100,000 of them:
 * the pages read what a store holds, however it got there). Most are done, one in a thousand
 * dead, one in a hundred scheduled; every ten form a chain (a root and nine events it caused).
 */
import type { EventRecord, EventStatus } from "../mod.ts";

/** The token the bench signs in with. */
export const TOKEN = "tok_bench_0123456789abcdef";

const NAMES = ["shop.order.placed", "shop.order.paid", "shop.cart.viewed", "shop.user.seen"];

/**
 * The `i`-th record of the bench.
 *
 * @param i its position
 * @param start the publish time of the first, epoch ms
 * @returns the record
 */
export function benchRecord(i: number, start: number): EventRecord {
  const time = start + i;
  const id = `r${String(i).padStart(7, "0")}`;
  const root = `r${String(i - (i % 10)).padStart(7, "0")}`;
  const status: EventStatus = i % 1000 === 999 ? "dead" : i % 100 === 50 ? "scheduled" : "done";
  const failed = {
    status: "dead" as const,
    attempts: 3,
    error: { name: "Error", message: "poison" },
    finishedAt: time,
  };
  return {
    id,
    name: NAMES[i % 4],
    body: { i, customer: `c-${i % 977}`, items: [{ sku: `sku-${i % 131}`, qty: 1 + (i % 3) }] },
    time,
    delay: status === "scheduled" ? 86_400_000 : 0,
    due: status === "scheduled" ? time + 86_400_000 : time,
    attempt: status === "scheduled" ? 0 : 1,
    correlationId: root,
    ...(id === root ? {} : { causationId: `r${String(i - 1).padStart(7, "0")}` }),
    status,
    handlers: status === "dead"
      ? { audit: failed }
      : status === "done"
      ? { audit: { status: "done", attempts: 1, finishedAt: time + 5 } }
      : {},
    updatedAt: time + 5,
  };
}
