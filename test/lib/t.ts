/**
 * One test API for Node (vitest), Deno (`deno test`) and Bun (`bun test`): each runtime's own
 * runner runs the same files. Assertions come from `node:assert/strict`, which all three have.
 */
// deno-lint-ignore-file no-explicit-any
type Fn = () => unknown | Promise<unknown>;
interface Runner {
  test(name: string, fn: Fn, timeout?: number): void;
  afterAll(fn: Fn): void;
}

const g = globalThis as any;
const runtime: "deno" | "bun" | "node" = g.Deno ? "deno" : g.Bun ? "bun" : "node";

async function load(): Promise<Runner> {
  if (runtime === "deno") {
    return {
      test: (name, fn) => g.Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false }),
      afterAll: (fn) => g.Deno.test.afterAll(fn),
    };
  }
  const mod: any = runtime === "bun" ? await import("bun:test" as string) : await import("vitest" as string);
  return { test: (name, fn, timeout) => mod.test(name, fn, timeout), afterAll: (fn) => mod.afterAll(fn) };
}

const runner = await load();
const prefix: string[] = [];

/** The runtime running the tests. */
export const RUNTIME = runtime;

/** Groups tests under a name (prefixed to each test's name). */
export function describe(name: string, fn: () => void): void {
  prefix.push(name);
  try {
    fn();
  } finally {
    prefix.pop();
  }
}

/** Declares a test; `timeout` in ms (Deno has none per test). */
export function test(name: string, fn: Fn, timeout = 20_000): void {
  runner.test([...prefix, name].join(" > "), fn, timeout);
}

/**
 * Runs `fn` once after the file's tests, such as stopping a server the file started: the
 * runners keep their worker processes alive between files, so an `exit` handler is too late.
 */
export function afterAll(fn: Fn): void {
  runner.afterAll(fn);
}

/** Waiting helpers, shared with the published conformance suite. */
export { eventually, sleep } from "../../testing/wait.ts";
