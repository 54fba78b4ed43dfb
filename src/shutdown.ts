import type { Shutdown, Stoppable } from "./run_handler.ts";

/** A shutdown flag with the runs under way, told of it. */
export function shutdownSwitch(): Shutdown & { abort(): void } {
  const runs = new Set<Stoppable>();
  let aborted = false;
  return {
    get aborted() {
      return aborted;
    },
    add(run) {
      runs.add(run);
    },
    delete(run) {
      runs.delete(run);
    },
    abort() {
      aborted = true;
      for (const run of runs) run.stop();
      runs.clear();
    },
  };
}
