/** What the NATS fault cases share: producers that keep an honest ledger of acknowledged publishes. */
import { type Bus, EdgebusError } from "../../mod.ts";
import type { Ledger } from "./ledger.ts";

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
