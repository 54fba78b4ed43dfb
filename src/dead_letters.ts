import type { Driver, Envelope, EventRecord, ListQuery, Page } from "./driver.ts";
import { cutPage } from "./body_cut.ts";
import { envelopeOf } from "./envelope.ts";
import { EdgebusError } from "./errors.ts";
import { assertQuery } from "./query.ts";
import { transport } from "./transport.ts";
import type { DeadLetters } from "./types.ts";

/** What dead letters need from the bus. */
export interface DeadLetterDeps {
  readonly driver: Driver;
  readonly now: () => number;
  /** Starts a driver that starts itself on the first send. */
  readonly autoStart: () => Promise<void> | undefined;
}

/**
 * The bus's dead letters: list, replay (only the handlers that failed, with fresh attempts),
 * delete. Every call that reaches the store or transport fails `unavailable` when it is down.
 *
 * @param deps the driver, the clock and how to start the driver
 * @returns the dead letters
 */
export function createDeadLetters(deps: DeadLetterDeps): DeadLetters {
  const { driver, now } = deps;
  const store = driver.store;

  async function replayHere(id: string): Promise<boolean> {
    const record = await store.get(id);
    if (!record || record.status !== "dead") return false;
    const at = now();
    const kept = Object.fromEntries(Object.entries(record.handlers).filter(([, r]) => r.status === "done"));
    const envelope: Envelope = { ...envelopeOf(record), attempt: 1, due: at };
    await store.put({ ...record, status: "pending", attempt: 0, due: at, handlers: kept, updatedAt: at });
    await deps.autoStart();
    try {
      await driver.send([envelope]);
    } catch (error) {
      await store.put(record); // still a dead letter, to replay later
      throw new EdgebusError("unavailable", `Cannot replay "${id}": the transport refused it (${String(error)})`, {
        cause: error,
      });
    }
    return true;
  }

  return {
    list(query: Omit<ListQuery, "status"> = {}): Promise<Page<EventRecord>> {
      try {
        assertQuery(query);
      } catch (error) {
        return Promise.reject(error);
      }
      return transport("list the dead letters", () => store.list({ ...query, status: "dead" })).then((page) =>
        cutPage(page, query.bodyLimit)
      );
    },
    async replay(id: string): Promise<boolean> {
      if (driver.replay) {
        await deps.autoStart();
        return await transport(`replay "${id}"`, () => driver.replay!(id));
      }
      return await transport(`replay "${id}"`, () => replayHere(id));
    },
    delete(id: string): Promise<boolean> {
      return transport(`delete "${id}"`, async () => {
        const record = await store.get(id);
        return record?.status === "dead" ? await store.delete(id) : false;
      });
    },
  };
}
