/** What the NATS fault cases share: producers that keep an honest ledger of acknowledged publishes. */
import { type Bus, createBus, EdgebusError } from "../../mod.ts";
import { natsDriver, type NatsDriverOptions } from "../../adapters/nats/mod.ts";
import { Ledger } from "./ledger.ts";

/** Counts of what publishes answered. */
export interface PublishCounts {
  acked: number;
  rejected: number;
}

/**
 * Publishes events from `producer` one after another, `pace` ms apart, until `more()` says
 * stop, each with the idempotency key `<producer>-<seq>`. A publish that rejects with a typed
 * error is tried again with the same id until `deadline`; an untyped error is unexpected.
 */
export async function produce(
  bus: Bus,
  ledger: Ledger,
  producer: string,
  more: (seq: number) => boolean,
  counts: PublishCounts,
  deadline: number,
  pace = 10,
  name = "fault.effect",
): Promise<void> {
  for (let seq = 0; more(seq); seq++) {
    await new Promise((resolve) => setTimeout(resolve, pace));
    while (Date.now() < deadline) {
      try {
        const id = await bus.publish(name, { id: `${producer}-${seq}` }, { producer, seq });
        ledger.ack(producer, seq, id);
        counts.acked++;
        break;
      } catch (error) {
        counts.rejected++;
        if (!(error instanceof EdgebusError)) {
          ledger.unexpected(`publish ${producer}/${seq} failed with an untyped ${String(error)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}

/**
 * A started bus on the NATS driver whose `fault.effect` handler writes every effect into a new
 * ledger; retries are quick (200 ms to 1 s) and many, so an outage delays effects but never
 * turns them into dead letters.
 */
export async function ledgerBus(options: NatsDriverOptions): Promise<{ bus: Bus; ledger: Ledger }> {
  const ledger = new Ledger();
  const bus = createBus({
    driver: natsDriver({ tick: 50, ...options }),
    retry: { minDelay: 200, maxDelay: 1_000, maxAttempts: 50 },
  });
  bus.on("fault.effect", (event) => {
    const { producer, seq } = event.body as { producer: string; seq: number };
    ledger.effect(producer, seq);
  });
  await bus.start();
  return { bus, ledger };
}
