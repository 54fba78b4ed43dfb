import type { JetStreamManager } from "@nats-io/jetstream";
import { compilePattern, type Matcher } from "../../driver/mod.ts";
import type { ConsumerNote } from "./setup.ts";

/** A handler of the application, as its durable consumer describes it. */
export interface KnownHandler {
  /** The handler key. */
  readonly key: string;
  /** Its pattern. */
  readonly pattern: string;
  /** Whether an event name is for it. */
  readonly matches: Matcher;
  /** When its consumer was made, epoch ms (server time): it takes events stored from then on. */
  readonly since: number;
}

/** The application's handlers, read from the event streams' consumers. */
export interface Registry {
  /** The handlers of the stream, cached for a short while. */
  handlers(jsm: JetStreamManager, stream: string): Promise<readonly KnownHandler[]>;
  /** Forgets the cache (a handler was just added). */
  refresh(): void;
}

function parseTime(text: string): number {
  // nats-server reports nanoseconds, which Date.parse may refuse.
  return Date.parse(text.replace(/\.(\d{3})\d*Z$/, ".$1Z"));
}

/**
 * Every process learns which handlers exist from JetStream itself: each handler has a durable
 * consumer whose description names it, so there is nothing else to keep in step.
 *
 * @param ttl how long a read is reused, ms
 * @param now the clock
 * @returns the registry
 */
export function createRegistry(ttl: number, now: () => number): Registry {
  const cache = new Map<string, { at: number; list: Promise<KnownHandler[]> }>();
  const read = async (jsm: JetStreamManager, stream: string): Promise<KnownHandler[]> => {
    const found: KnownHandler[] = [];
    for await (const info of jsm.consumers.list(stream)) {
      if (!info.name.startsWith("h_")) continue;
      let note: ConsumerNote;
      try {
        note = JSON.parse(info.config.description ?? "");
        found.push({
          key: note.handler,
          pattern: note.pattern,
          matches: compilePattern(note.pattern),
          since: parseTime(info.created),
        });
      } catch {
        // Not one of ours.
      }
    }
    return found;
  };

  return {
    handlers(jsm, stream) {
      const hit = cache.get(stream);
      if (hit && now() - hit.at < ttl) return hit.list;
      const list = read(jsm, stream);
      cache.set(stream, { at: now(), list });
      list.catch(() => cache.delete(stream));
      return list;
    },
    refresh() {
      cache.clear();
    },
  };
}
