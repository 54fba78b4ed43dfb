/** A deadline that may be called off before it passes. */
export interface Deadline {
  /** Forgets the deadline: its function will not be called. */
  cancel(): void;
}

/** What a deadline calls when it passes: a function, or an object's `expire` (no closure to make). */
export interface Expiring {
  expire(): void;
}

/** Entries of one length of wait, in the order they were added: so their deadlines are in order too. */
interface Lane {
  entries: Entry[];
  head: number;
  readonly ms: number;
}

/** One deadline: it is its own handle, so adding one makes a single object. */
class Entry implements Deadline {
  live = true;
  constructor(
    readonly at: number,
    readonly target: Expiring | (() => void),
    readonly lane: Lane,
    readonly owner: { cancelled(entry: Entry): void },
  ) {}

  fire(): void {
    const target = this.target;
    if (typeof target === "function") target();
    else target.expire();
  }

  cancel(): void {
    if (!this.live) return;
    this.live = false;
    this.owner.cancelled(this);
  }
}

/**
 * Many deadlines on one timer. Runs usually end long before their timeout, so arming and
 * clearing a runtime timer for each (about a microsecond each way, and garbage) is the costly
 * way; here each distinct length of wait keeps a queue in start order, whose first live entry
 * is the earliest, and one timer is armed for the earliest of those. A cancelled entry is
 * dropped when it reaches the front of its queue (at once when it is there already), so
 * the queues stay about as long as the number of runs under way.
 *
 * @param now the clock
 * @returns `add(ms, fire)`, calling `fire` once `ms` have passed unless cancelled first
 */
export function deadlines(
  now: () => number = Date.now,
): { add(ms: number, fire: Expiring | (() => void)): Deadline } {
  const lanes = new Map<number, Lane>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerAt = Infinity;
  // Whether the timer keeps the process alive. With nothing left to wait for, a timer that can
  // be unreferenced (Node, Deno, Bun) is left to fire on its own rather than cleared: a run that
  // starts before it fires reuses it instead of arming one more (runs one after another would
  // otherwise arm and clear a timer each). Where timers are plain numbers (Workers) it is cleared.
  let held = true;
  const hold = (): void => {
    (timer as { ref?: () => void } | undefined)?.ref?.();
    held = true;
  };
  const idle = (): void => {
    const unref = (timer as { unref?: () => void } | undefined)?.unref;
    if (typeof unref === "function") {
      unref.call(timer);
      held = false;
      return;
    }
    clearTimeout(timer);
    timer = undefined;
    timerAt = Infinity;
  };

  /** Drops called-off entries from the front; deletes the lane when it empties. */
  const trim = (ms: number, lane: Lane): Entry | undefined => {
    while (lane.head < lane.entries.length && !lane.entries[lane.head].live) lane.head++;
    if (lane.head === lane.entries.length) {
      lanes.delete(ms);
      return undefined;
    }
    if (lane.head > 1024 && lane.head * 2 > lane.entries.length) {
      lane.entries = lane.entries.slice(lane.head);
      lane.head = 0;
    }
    return lane.entries[lane.head];
  };

  const arm = (): void => {
    let earliest = Infinity;
    for (const [ms, lane] of lanes) earliest = Math.min(earliest, trim(ms, lane)?.at ?? Infinity);
    if (earliest === timerAt) return;
    clearTimeout(timer);
    timer = undefined;
    timerAt = earliest;
    held = true;
    if (earliest !== Infinity) timer = setTimeout(expire, Math.max(0, earliest - now()));
  };

  function expire(): void {
    timer = undefined;
    timerAt = Infinity;
    held = true;
    const at = now();
    const due: Entry[] = [];
    for (const [ms, lane] of lanes) {
      for (let first = trim(ms, lane); first && first.at <= at; first = trim(ms, lane)) {
        first.live = false;
        due.push(first);
      }
    }
    arm();
    for (const entry of due) entry.fire();
  }

  const owner = {
    // Runs end mostly in the order they started: the front is usually this entry.
    cancelled(entry: Entry): void {
      const lane = entry.lane;
      if (lane.entries[lane.head] !== entry) return;
      if (trim(lane.ms, lane) === undefined && lanes.size === 0) idle();
    },
  };

  return {
    add(ms, fire) {
      let lane = lanes.get(ms);
      if (!lane) lanes.set(ms, lane = { entries: [], head: 0, ms });
      const entry = new Entry(now() + ms, fire, lane, owner);
      lane.entries.push(entry);
      if (entry.at < timerAt) arm();
      else if (!held) hold();
      return entry;
    },
  };
}
