import assert from "node:assert/strict";
import type { JsMsg } from "@nats-io/jetstream";
import { FirstDeliveries } from "../../adapters/nats/fresh.ts";
import { describe, test } from "../lib/t.ts";

/** Only `info` is read: a delivered message's sequences and count, as nats.js parses them. */
const delivery = (streamSequence: number, deliverySequence: number, deliveryCount = 1): JsMsg =>
  ({ info: { streamSequence, deliverySequence, deliveryCount } }) as unknown as JsMsg;

/** A stream's last sequence answered when the test says, as a request in flight would be. */
function pendingAnswers() {
  const asked: ((seq: number) => void)[] = [];
  const failures: ((error: Error) => void)[] = [];
  const read = () =>
    new Promise<number>((resolve, reject) => {
      asked.push(resolve);
      failures.push(reject);
    });
  return { read, asked, failures };
}
const settle = () => new Promise((r) => setTimeout(r, 0));
/** What the pull loop does with each message: notes it, then asks whether to trust it. */
const take = (first: FirstDeliveries, msg: JsMsg, name: string): boolean => {
  first.delivered(msg);
  return first.trusts(msg, name);
};

describe("nats first deliveries", () => {
  test("nothing is trusted until the stream's last sequence after the disruption is known", async () => {
    const { read, asked } = pendingAnswers();
    const first = new FirstDeliveries(read);
    first.disrupted();
    assert.equal(take(first, delivery(120, 1), "a"), false, "trusted before the last sequence was known");
    assert.equal(asked.length, 1, "asked more than once for one disruption");
    asked[0](100);
    await settle();
    assert.equal(take(first, delivery(100, 2), "a"), false, "a message stored before the disruption was trusted");
    assert.equal(take(first, delivery(101, 3), "a"), true);
    assert.equal(take(first, delivery(102, 4, 2), "a"), false, "a redelivery was trusted");
  });

  test("an answer that arrives after a newer disruption is not used", async () => {
    const { read, asked } = pendingAnswers();
    const first = new FirstDeliveries(read);
    first.disrupted();
    first.disrupted();
    asked[0](10); // the answer to the first ask, older than the second disruption
    await settle();
    assert.equal(take(first, delivery(50, 1), "a"), false);
    asked[1](60);
    await settle();
    assert.equal(take(first, delivery(50, 2), "a"), false);
    assert.equal(take(first, delivery(61, 3), "a"), true);
  });

  test("a consumer sequence handed out again counts as a disruption", async () => {
    const { read, asked } = pendingAnswers();
    const first = new FirstDeliveries(read);
    first.disrupted();
    asked[0](10);
    await settle();
    assert.equal(take(first, delivery(11, 7), "a"), true);
    assert.equal(take(first, delivery(12, 7), "a"), false, "a repeated consumer sequence was trusted");
    assert.equal(asked.length, 2, "the repeat did not ask for the stream's last sequence again");
    asked[1](12);
    await settle();
    assert.equal(take(first, delivery(13, 8), "a"), true);
    // Messages the lane only acknowledges (names its handler does not take) count too.
    first.delivered(delivery(14, 30));
    assert.equal(take(first, delivery(15, 20), "a"), false, "a sequence below an acknowledged one was trusted");
  });

  test("a failed ask is tried again on a later delivery, not at once", async () => {
    let clock = 0;
    const { read, asked, failures } = pendingAnswers();
    const first = new FirstDeliveries(read, () => clock);
    first.disrupted();
    failures[0](new Error("timeout"));
    await settle();
    assert.equal(take(first, delivery(5, 1), "a"), false);
    assert.equal(asked.length, 1, "asked again at once after a failure");
    clock = 1_500;
    assert.equal(take(first, delivery(6, 2), "a"), false);
    assert.equal(asked.length, 2);
    asked[1](5);
    await settle();
    assert.equal(take(first, delivery(7, 3), "a"), true);
  });

  test("a name another handler also writes is read first from then on", async () => {
    const { read, asked } = pendingAnswers();
    const first = new FirstDeliveries(read);
    first.disrupted();
    asked[0](0);
    await settle();
    first.shared("order.placed");
    assert.equal(take(first, delivery(1, 1), "order.placed"), false);
    assert.equal(take(first, delivery(2, 2), "user.joined"), true);
  });
});
