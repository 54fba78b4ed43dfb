import type { Shutdown } from "./run_handler.ts";

/** A shutdown flag with its listeners, one per running handler. */
export function shutdownSwitch(): Shutdown & { abort(): void } {
  const listeners = new Set<() => void>();
  let aborted = false;
  return {
    get aborted() {
      return aborted;
    },
    onAbort(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    abort() {
      aborted = true;
      for (const fn of listeners) fn();
      listeners.clear();
    },
  };
}
