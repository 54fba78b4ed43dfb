import type { Driver, Envelope } from "./driver.ts";
import { createEnvelope, type Draft, envelopeOf, initialRecord } from "./envelope.ts";
import { EdgebusError } from "./errors.ts";
import { type StandardSchemaV1, validateBody } from "./schema.ts";
import { mayHaveLanded, transport } from "./transport.ts";
import type { Event, Publisher, PublishItem, PublishOptions } from "./types.ts";

/** What publishing needs from the bus. */
export interface PublishingDeps {
  readonly driver: Driver;
  readonly schemas: Readonly<Record<string, StandardSchemaV1>>;
  readonly dedupWindow: number;
  readonly now: () => number;
  readonly newId: () => string;
  /** True once the bus is stopping: publishes are refused. */
  readonly stopping: () => boolean;
  /** Starts a driver that starts itself on the first publish. */
  readonly autoStart: () => Promise<void> | undefined;
}

/** The bus's publishing: drafts to envelopes to the driver. */
export interface Publishing {
  /** Checks and publishes drafts, all or none; resolves to their ids. */
  publishDrafts(drafts: readonly Draft[]): Promise<string[]>;
  /** A publisher; events it publishes are caused by `parent` when given. */
  publisherFor(parent?: Event): Publisher;
}

/**
 * The publish arguments after the name, `(body)` or `(options, body)`, as one item: how
 * `bus.publish` reads them, for anything that takes the same arguments (the outboxes).
 *
 * @param name the event name
 * @param args the rest
 * @returns the item
 * @throws {EdgebusError} code `invalid_option` when the options are not an object
 *
 * @example
 * ```ts
 * import { publishItem } from "@edgebus/edgebus/driver";
 * console.log(publishItem("user.joined", [{ after: "1 day" }, { id: 7 }])); // { after: "1 day", name: "user.joined", body: { id: 7 } }
 * ```
 */
export function publishItem(name: string, args: readonly unknown[]): PublishItem {
  if (args.length >= 2) {
    const options = args[0];
    if (typeof options !== "object" || options === null || Array.isArray(options)) {
      throw new EdgebusError(
        "invalid_option",
        `Cannot publish "${name}": with three arguments the second must be the options object`,
      );
    }
    return { ...(options as PublishOptions), name, body: args[1] };
  }
  return { name, body: args[0] };
}

/**
 * Makes the bus's publishing. Everything is checked (schemas, names, delays, sizes) before
 * anything is stored; then either the driver keeps the records itself (`driver.publish`, one
 * write per event), or it creates the records and sends them in one step (`driver.createAndSend`,
 * the memory driver), or the bus creates records (deduplicated by id within `dedupWindow`) and
 * sends the new envelopes, undoing the records when the send fails.
 *
 * @param deps the driver, schemas, clock and the bus's state
 * @returns the publishing functions
 */
export function createPublishing(deps: PublishingDeps): Publishing {
  const { driver, schemas, dedupWindow, now, newId } = deps;
  const store = driver.store;
  const hasSchemas = Object.keys(schemas).length > 0;

  function checked(drafts: readonly Draft[]): Promise<readonly Draft[]> {
    return Promise.all(drafts.map(async (draft) => {
      const schema = typeof draft.name === "string" ? schemas[draft.name] : undefined;
      return schema ? { ...draft, body: await validateBody(draft.name, schema, draft.body) } : draft;
    }));
  }

  function send(envelopes: readonly Envelope[], call: () => Promise<unknown>): Promise<unknown> {
    const starting = deps.autoStart();
    if (starting) return starting.then(() => send(envelopes, call));
    return transport("send the events", call, (error) => mayHaveLanded(error, envelopes));
  }

  /**
   * Duplicates whose first publish may have failed half-way (the record stored, the send never
   * confirmed) are sent again while they are still undelivered: transports drop true duplicates
   * by id, and dispatch skips events already finished.
   */
  async function unsent(duplicates: readonly Envelope[], fresh: readonly Envelope[]): Promise<Envelope[]> {
    const seen = new Set(fresh.map((e) => e.id));
    const again: Envelope[] = [];
    for (const { id } of duplicates) {
      if (seen.has(id)) continue;
      seen.add(id);
      const record = await transport(`read the record of "${id}"`, () => store.get(id));
      if (record && record.attempt === 0 && (record.status === "pending" || record.status === "scheduled")) {
        again.push({ ...envelopeOf(record), attempt: 1 });
      }
    }
    return again;
  }

  async function publishDrafts(drafts: readonly Draft[]): Promise<string[]> {
    if (deps.stopping()) throw new EdgebusError("stopped", "Cannot publish: the bus is stopping or stopped");
    const at = now();
    // Without schemas nothing is awaited before the driver is called.
    const envelopes = (hasSchemas ? await checked(drafts) : drafts).map((draft) => createEnvelope(draft, at, newId));
    const ids = envelopes.map((e) => e.id);
    if (driver.publish) {
      await send(envelopes, () => driver.publish!(envelopes));
      return ids;
    }
    const records = envelopes.map((e) => initialRecord(e, at));
    if (driver.createAndSend) {
      let answer: boolean[] | Promise<boolean[]> | undefined;
      try {
        answer = driver.createAndSend(envelopes, records, at - dedupWindow);
      } catch (error) {
        answer = Promise.reject(error);
      }
      if (answer !== undefined) {
        // Answered at once on a started bus (the memory driver): nothing to wait for.
        if (!Array.isArray(answer) || deps.autoStart()) await send(envelopes, () => Promise.resolve(answer));
        return ids;
      }
    }
    const created = await transport(
      "store the events",
      () => store.create(records, at - dedupWindow),
    );
    // Usually every one is new: no duplicate to look up.
    const allNew = created.every(Boolean);
    const fresh = allNew ? envelopes : envelopes.filter((_, i) => created[i]);
    const again = allNew ? [] : await unsent(envelopes.filter((_, i) => !created[i]), fresh);
    if (fresh.length + again.length === 0) return ids;
    try {
      await send(envelopes, () => driver.send(allNew ? envelopes : [...fresh, ...again]));
    } catch (error) {
      // Nothing may look published that the transport did not take: undo the new records.
      await Promise.allSettled(fresh.map((e) => store.delete(e.id)));
      throw error;
    }
    return ids;
  }

  function publisherFor(parent?: Event): Publisher {
    return {
      publish(name: string, ...args: unknown[]): Promise<string> {
        try {
          const item = publishItem(name, args);
          const draft: Draft = parent
            ? { ...item, causationId: parent.id, correlationId: item.correlationId ?? parent.correlationId }
            : item;
          return publishDrafts([draft]).then((ids) => ids[0]);
        } catch (error) {
          return Promise.reject(error);
        }
      },
    } as Publisher;
  }

  return { publishDrafts, publisherFor };
}
