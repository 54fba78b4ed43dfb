/**
 * Waits `ms`.
 *
 * @param ms how long
 * @returns a promise that resolves after `ms`
 */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it returns a truthy value or `ms` passes.
 *
 * @param check what to poll
 * @param ms how long to wait at most
 * @param every how often to poll, ms
 * @returns the first truthy value
 * @throws {Error} when `ms` passes first
 */
export async function eventually<T>(check: () => T | Promise<T>, ms = 5_000, every = 5): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await check();
    if (last) return last as NonNullable<T>;
    await sleep(every);
  }
  throw new Error(`Condition not met within ${ms} ms (last value: ${JSON.stringify(last)})`);
}
