/**
 * A user's own SQLite-backed Durable Object with an edgebus outbox: orders and their events are
 * written in one transaction, and its alarm is shared with the user's own alarm work.
 */
import { type DurableOutbox, durableOutbox, type DurableOutboxTarget } from "../../adapters/cloudflare/mod.ts";
import type { DurableObjectStateLike, WorkerEnv } from "../../adapters/cloudflare/mod.ts";
import type { PublishItem } from "../../mod.ts";

/** Where every OutboxObject sends its rows; each test sets its own bus (tests run one at a time). */
export const outboxTarget: { bus?: DurableOutboxTarget; fail?: "before" | "after" } = {};
/** The times the user's own alarm work ran, by object. */
export const userAlarmRuns: number[] = [];

/** The test's bus, with failures on demand: "before" refuses the send, "after" sends and then throws (as
 * if the object died before deleting the rows). */
const target: DurableOutboxTarget = {
  async publishBatch(items: readonly PublishItem[]): Promise<string[]> {
    const { bus, fail } = outboxTarget;
    if (!bus) throw new Error("no bus set for the outbox test");
    if (fail === "before") throw new Error("the queue is unavailable (on purpose)");
    const ids = await bus.publishBatch(items);
    if (fail === "after") throw new Error("died after sending (on purpose)");
    return ids;
  },
};

/** The user's Durable Object. */
export class OutboxObject {
  readonly outbox: DurableOutbox;

  constructor(readonly ctx: DurableObjectStateLike, _env: WorkerEnv) {
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, total INTEGER)");
    this.outbox = durableOutbox(ctx, { bus: target, onError: () => {} });
  }

  /** Writes an order and its event in one transaction; `fail` throws after both writes. */
  placeOrder(id: string, total: number, fail = false): string {
    return this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec("INSERT INTO orders (id, total) VALUES (?, ?)", id, total);
      const eventId = this.outbox.publish("order.placed", { id: `order-${id}` }, { id, total });
      if (fail) throw new Error("the order was refused after its writes");
      return eventId;
    });
  }

  orders(): number {
    return this.ctx.storage.sql.exec("SELECT count(*) AS n FROM orders").toArray()[0].n as number;
  }

  fetch(): Response {
    return new Response("outbox object");
  }

  async alarm(): Promise<void> {
    if (await this.outbox.alarm()) return;
    userAlarmRuns.push(Date.now());
  }
}
