import type { HandlerInfo, HandlerRegistry } from "../../driver/mod.ts";

/** How long an isolate trusts its copy of the known handlers, ms. */
export const KNOWN_FOR = 30_000;
/** How often an isolate announces its handlers again, at most, ms. */
export const ANNOUNCE_EVERY = 60_000;

/** What the registry needs from the driver. */
export interface RegistryOptions {
  /** Calls a method of records shard 0, where the handlers table lives. */
  readonly call: <T>(method: string, ...args: unknown[]) => Promise<T>;
  /** The driver's clock. */
  readonly now: () => number;
  /** How long an announcement counts, ms. */
  readonly ttl: number;
}

/** The registry, and the keep-alive the driver runs before each batch. */
export interface CloudflareRegistry extends HandlerRegistry {
  /**
   * Announces `handlers()` unless this isolate did so in the last minute; never rejects (a
   * failure is logged and tried again on the next call).
   */
  keepAnnounced(handlers: () => readonly HandlerInfo[]): Promise<void>;
}

/**
 * The handler registry of one driver: announcements go to a table of records shard 0, stamped
 * with the driver's clock; `known()` is read from there at most every 30 seconds per isolate, so
 * that a batch costs no object call in the common case.
 *
 * @param options the object call, the clock, the TTL
 * @returns the registry
 */
export function handlerRegistry(options: RegistryOptions): CloudflareRegistry {
  const { call, now, ttl } = options;
  let cached: { at: number; value: Promise<HandlerInfo[]> } | undefined;
  let last: HandlerInfo[] | undefined;
  let announcedAt = -Infinity;
  let announcedCount = 0;
  let announcing: Promise<void> | undefined;

  const registry: CloudflareRegistry = {
    async announce(handlers) {
      const at = now();
      const rows = handlers.map(({ id, pattern }) => ({ id, pattern }));
      if (rows.length > 0) await call<void>("announce", rows, at, ttl);
      announcedAt = at;
      announcedCount = rows.length;
    },
    known() {
      const at = now();
      if (!cached || at - cached.at >= KNOWN_FOR || at < cached.at) {
        const entry = {
          at,
          value: call<HandlerInfo[]>("known", at - ttl).then(
            (found) => (last = found),
            (error) => {
              // A failed read is not kept (the next delivery asks again); until one succeeds,
              // the last answer stands, so that a blip of shard 0 does not fail deliveries.
              if (cached === entry) cached = undefined;
              if (last) return last;
              throw error;
            },
          ),
        };
        cached = entry;
      }
      return cached.value;
    },
    keepAnnounced(handlers) {
      // A handler added with bus.on() since the last announcement is announced at once.
      const list = handlers();
      if (now() - announcedAt < ANNOUNCE_EVERY && list.length === announcedCount) return Promise.resolve();
      announcing ??= registry.announce(list)
        .catch((error) => console.error("edgebus: could not announce this Worker's handlers", error))
        .finally(() => (announcing = undefined));
      return announcing;
    },
  };
  return registry;
}
