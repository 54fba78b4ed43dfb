import type { Dispatch, Driver, Envelope } from "../driver.ts";
import { MAX_TIMER_MS } from "../run_handler.ts";
import { DueHeap } from "./heap.ts";
import { memorySchedules } from "./schedules.ts";
import { memoryRecords, type MemoryStoreOptions } from "./store.ts";

/** Options of {@linkcode memoryDriver}. */
export interface MemoryDriverOptions extends MemoryStoreOptions {
  /** At most this many events are dispatched at once. @default {64} */
  readonly concurrency?: number;
}

interface Entry {
  readonly due: number;
  readonly envelope: Envelope;
  cancelled: boolean;
  /** Whether `byId` holds it until it runs. */
  readonly indexed: boolean;
}

/**
 * The in-process driver: the default of `createBus()`, and the reference for other drivers.
 *
 * It keeps everything in this process's memory: events, delayed events and records are lost
 * when the process ends. Use it for development, tests and work that may be lost; use the
 * Cloudflare or NATS driver for anything that must survive a restart. Delays of any length up
 * to a year work: one timer is armed for the earliest event, in steps a timer can hold.
 *
 * @param options concurrency, record retention and the clock
 * @returns a driver
 *
 * @example
 * ```ts
 * import { createBus, memoryDriver } from "@edgebus/edgebus";
 * const bus = createBus({ driver: memoryDriver({ concurrency: 8 }) });
 * await bus.stop();
 * ```
 */
export function memoryDriver(options: MemoryDriverOptions = {}): Driver {
  const { concurrency = 64, now = Date.now } = options;
  const { store, createNow } = memoryRecords(options);
  const schedules = memorySchedules(now);
  const delayed = new DueHeap<Entry>();
  // Entries by id until they run, for `cancel` and to keep a re-sent duplicate out, but for the
  // bus's publishes due now: the bus cancels only events not yet due, a publish is never re-sent
  // (`createAndSend`), and a map entry made and deleted for each event cost about a sixth of the
  // memory bench's time.
  const byId = new Map<string, Entry>();
  let ready: Entry[] = [];
  let head = 0;
  let dispatch: Dispatch | undefined;
  let running = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerDue = Infinity;
  let stopped = false;
  let idle: (() => void) | undefined;

  const enqueue = (envelope: Envelope, due: number, index = true): void => {
    const isDue = due <= now();
    const entry: Entry = { due, envelope, cancelled: false, indexed: index || !isDue };
    if (entry.indexed) byId.set(envelope.id, entry);
    if (isDue) ready.push(entry);
    else {
      delayed.push(entry);
      arm();
    }
  };
  const schedule = (envelope: Envelope, index: boolean): void => {
    // Due now with a free slot and nothing queued: it starts at once, so nothing needs to find
    // it by id (a cancel from now on finds it started, as it would a moment later).
    if (head === ready.length && free() && envelope.due <= now()) {
      run({ due: envelope.due, envelope, cancelled: false, indexed: false });
    } else enqueue(envelope, envelope.due, index);
  };

  const settled = (): void => {
    running--;
    pump();
    if (running === 0) idle?.();
  };
  const run = (entry: Entry): void => {
    running++;
    dispatch!(entry.envelope).then((outcome) => {
      if (outcome.status === "retry" && !stopped) enqueue(outcome.envelope, outcome.at);
      settled();
    }, () => {
      // The store failed: keep the event and try again shortly, as a queue would.
      if (!stopped) enqueue(entry.envelope, now() + 1_000);
      settled();
    });
  };

  /** Whether another event may start now. */
  const free = (): boolean => dispatch !== undefined && !stopped && running < concurrency;
  const pump = (): void => {
    while (free() && head < ready.length) {
      const entry = ready[head++];
      if (entry.indexed && byId.get(entry.envelope.id) === entry) byId.delete(entry.envelope.id);
      if (!entry.cancelled) run(entry);
    }
    if (head > 1024 && head * 2 > ready.length) {
      ready = ready.slice(head);
      head = 0;
    }
  };

  const fire = (): void => {
    timer = undefined;
    timerDue = Infinity;
    const at = now();
    while ((delayed.peek()?.due ?? Infinity) <= at) ready.push(delayed.pop()!);
    arm();
    pump();
  };

  function arm(): void {
    const next = delayed.peek();
    if (!next || stopped || !dispatch || next.due >= timerDue) return;
    clearTimeout(timer);
    timerDue = next.due;
    // Long delays are waited for in steps: a timer longer than 2^31 - 1 ms fires at once.
    timer = setTimeout(fire, Math.min(MAX_TIMER_MS, Math.max(0, next.due - now())));
  }

  const send = (envelopes: readonly Envelope[]): Promise<void> => {
    for (const envelope of envelopes) {
      // An id already waiting here is a re-sent duplicate: keep the one that waits.
      if (!byId.has(envelope.id)) schedule(envelope, true);
    }
    pump();
    return Promise.resolve();
  };

  return {
    store,
    schedules,
    autoStart: true,
    send,
    // The bus's publish: the records and the schedule in one step that cannot fail half-way, so
    // a duplicate is never sent again, and nothing waits on a promise in between.
    createAndSend(this: Driver, envelopes, records, dedupSince) {
      // Spread into a driver with another store or send (tests do): those must see the publish.
      if (this.store !== store || this.send !== send) return undefined;
      const created = createNow(records, dedupSince);
      for (let i = 0; i < envelopes.length; i++) if (created[i]) schedule(envelopes[i], false);
      pump();
      return created;
    },
    cancel(id) {
      const entry = byId.get(id);
      if (!entry) return Promise.resolve(false);
      entry.cancelled = true;
      byId.delete(id);
      return Promise.resolve(true);
    },
    start(d) {
      dispatch = d;
      arm();
      pump();
      return Promise.resolve();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      schedules.stop();
      return running === 0 ? Promise.resolve() : new Promise((resolve) => (idle = resolve));
    },
  };
}
