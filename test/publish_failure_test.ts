import assert from "node:assert/strict";
import { createBus, type Driver, EdgebusError, memoryDriver } from "../mod.ts";
import { memoryRecords } from "../src/memory/store.ts";
import { describe, eventually, sleep, test } from "./lib/t.ts";

/**
 * A memory driver whose store or transport fails once on purpose: the faults a network
 * transport has (an answer lost after the write happened, a send refused). The real
 * transports are exercised the same way by the fault suite (test/faults/).
 */
function flaky(fail: "create-after-write" | "send"): Driver {
  const inner = memoryDriver();
  let armed = true;
  return {
    ...inner,
    start: inner.start,
    stop: inner.stop,
    cancel: inner.cancel,
    autoStart: true,
    store: {
      ...inner.store,
      async create(records, since) {
        const answers = await inner.store.create(records, since);
        if (fail === "create-after-write" && armed) {
          armed = false;
          throw new Error("connection reset before the answer arrived");
        }
        return answers;
      },
    },
    send(envelopes) {
      if (fail === "send" && armed) {
        armed = false;
        return Promise.reject(new Error("transport down"));
      }
      return inner.send(envelopes);
    },
  };
}

describe("stores that answer without a native promise", () => {
  test("a store answering plain values and thenables works as one answering promises", async () => {
    // The contract says promises; a plain value or another library's thenable is adopted as
    // `await` would, on the publish path (create) and when a result is saved (put).
    const { store, createNow } = memoryRecords();
    const thenable = <T>(p: Promise<T>): PromiseLike<T> => ({ then: (ok, ko) => p.then(ok, ko) });
    const driver: Driver = {
      ...memoryDriver(),
      store: {
        ...store,
        create: (records, since) => createNow(records, since) as unknown as Promise<boolean[]>,
        get: (id) => thenable(store.get(id)) as ReturnType<typeof store.get>,
        put: (record) => thenable(store.put(record)) as Promise<void>,
      },
    };
    const bus = createBus({ driver });
    let runs = 0;
    bus.on("order.placed", () => void runs++);
    const id = await bus.publish("order.placed", {});
    await eventually(() => runs === 1);
    await eventually(async () => (await bus.get(id))?.status === "done");
    await bus.stop();
  });
});

describe("publish() under transport failures", () => {
  test("a store answer lost after the write: the retry with the same id is delivered once", async () => {
    const bus = createBus({ driver: flaky("create-after-write") });
    let runs = 0;
    const attempts: number[] = [];
    bus.on("order.placed", (event) => {
      runs++;
      attempts.push(event.attempt);
    });
    await assert.rejects(
      bus.publish("order.placed", { id: "order-1" }, {}),
      (e: unknown) => e instanceof EdgebusError && e.code === "unavailable" && /store the events/.test(e.message),
    );
    assert.equal(await bus.publish("order.placed", { id: "order-1" }, {}), "order-1");
    await eventually(() => runs === 1);
    await bus.publish("order.placed", { id: "order-1" }, {});
    await sleep(50);
    assert.equal(runs, 1);
    assert.deepEqual(attempts, [1]); // the re-sent event is its first attempt, not attempt 0
    await bus.stop();
  });

  test("a refused send: the publish rejects typed, nothing is recorded, the retry is delivered once", async () => {
    const bus = createBus({ driver: flaky("send") });
    let runs = 0;
    bus.on("order.placed", () => void runs++);
    await assert.rejects(
      bus.publish("order.placed", { id: "order-2" }, {}),
      (e: unknown) =>
        e instanceof EdgebusError && e.code === "unavailable" && /transport down/.test(e.message) &&
        /publish again with id "order-2"/.test(e.message),
    );
    assert.equal(await bus.get("order-2"), undefined);
    await bus.publish("order.placed", { id: "order-2" }, {});
    await eventually(() => runs === 1);
    await sleep(50);
    assert.equal(runs, 1);
    await bus.stop();
  });
});
