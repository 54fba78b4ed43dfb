// deno-lint-ignore-file no-explicit-any
/** Helpers shared by the benchmarks (runtime-specific code is fine here: benches are not the core). */
const g = globalThis as any;

/** The runtime and its version, for the printed table. */
export const runtime: string = g.Deno
  ? `Deno ${g.Deno.version.deno}`
  : g.Bun
  ? `Bun ${g.Bun.version}`
  : `Node ${g.process?.version}`;

/** Runs a full garbage collection where the runtime allows it (Deno needs --v8-flags=--expose-gc). */
export function gc(): void {
  if (g.Bun) g.Bun.gc(true);
  else if (typeof g.gc === "function") g.gc();
  else throw new Error("No gc(): run Deno with --v8-flags=--expose-gc or Node with --expose-gc");
}

/** The heap in use, bytes. */
export function heapUsed(): number {
  if (g.Deno) return g.Deno.memoryUsage().heapUsed;
  if (g.process?.memoryUsage) return g.process.memoryUsage().heapUsed;
  throw new Error("No memoryUsage()");
}

/** Percentiles of a list of numbers. */
export function percentiles(values: number[], ps: number[] = [50, 99, 100]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  return ps.map((p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]);
}

/** Prints a row: figure, ours, peer, ratio. */
export function row(figure: string, ours: string, peer = "", ratio = ""): void {
  console.log(`| ${figure} | ${ours} | ${peer} | ${ratio} |`);
}
