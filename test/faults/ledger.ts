/**
 * The fault suite's ledger: every acknowledged publish and every handler effect, keyed by
 * producer and sequence number, and the three counts each case ends with.
 */

/** The counts a case prints; all must be 0 unless the case says otherwise. */
export interface Tally {
  /** Acknowledged publishes whose effect never happened. */
  readonly lost: number;
  /** Effects applied more than once for one acknowledged publish. */
  readonly duplicated: number;
  /** Anything else the case did not expect (effects of refused publishes, wrong counts...). */
  readonly unexpected: number;
}

/** What the ledger holds, and how a case adds to it. */
export class Ledger {
  readonly #acked = new Map<string, string>();
  readonly #effects = new Map<string, number>();
  readonly #notes: string[] = [];
  #unexpected = 0;

  /** A publish the bus acknowledged with `id`. */
  ack(producer: string, seq: number, id: string): void {
    this.#acked.set(`${producer}/${seq}`, id);
  }

  /** A handler applied the effect of (producer, seq). */
  effect(producer: string, seq: number): void {
    const key = `${producer}/${seq}`;
    this.#effects.set(key, (this.#effects.get(key) ?? 0) + 1);
  }

  /** Something the case did not expect, with what it was. */
  unexpected(note: string): void {
    this.#unexpected++;
    if (this.#notes.length < 20) this.#notes.push(note);
  }

  /** How many publishes were acknowledged. */
  get acked(): number {
    return this.#acked.size;
  }

  /** How many distinct effects were applied. */
  get applied(): number {
    return this.#effects.size;
  }

  /** Whether every acknowledged publish has had its effect. */
  complete(): boolean {
    for (const key of this.#acked.keys()) if (!this.#effects.has(key)) return false;
    return true;
  }

  /** The counts. Effects of publishes never acknowledged are fine (a publish whose answer was lost). */
  tally(): Tally {
    let lost = 0;
    let duplicated = 0;
    for (const key of this.#acked.keys()) if (!this.#effects.has(key)) lost++;
    for (const count of this.#effects.values()) if (count > 1) duplicated += count - 1;
    return { lost, duplicated, unexpected: this.#unexpected };
  }

  /**
   * Prints the case's closing lines, which scripts/faults.mjs reads. `allow` names counts the
   * case lets be above 0, and why (printed with them).
   */
  print(
    name: string,
    extra: Record<string, string | number> = {},
    allow: Partial<Record<keyof Tally, string>> = {},
  ): Tally {
    const tally = this.tally();
    for (const note of this.#notes) console.log(`  unexpected: ${note}`);
    const details = Object.entries({ acked: this.acked, applied: this.applied, ...extra })
      .map(([k, v]) => `${k}=${v}`).join(" ");
    for (const [count, why] of Object.entries(allow)) console.log(`  ${count} may be above 0 here: ${why}`);
    const allowed = Object.keys(allow).length ? ` allowed=${Object.keys(allow).join(",")}` : "";
    console.log(
      `RESULT ${name}: lost=${tally.lost} duplicated=${tally.duplicated} unexpected=${tally.unexpected}${allowed} ${details}`,
    );
    return tally;
  }
}

/** How big a run is: `FAULT_SCALE=short` (inside `npm test`) or `full`. */
export const SHORT: boolean = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env
  .FAULT_SCALE !== "full";

/** Waits `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds or `ms` passes; answers whether it held. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms: number, every = 20): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(every);
  }
  return await check();
}
