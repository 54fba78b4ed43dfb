import type { Dispatch } from "./driver.ts";
import { readEnvelope } from "./envelope.ts";
import { nextDelay, type RetryPolicy } from "./retry.ts";
import type { BatchFailure, BatchMessage, BatchResult } from "./types.ts";

/** What running a batch needs from the bus. */
export interface BatchDeps {
  readonly dispatch: Dispatch;
  readonly concurrency: number;
  readonly retry: RetryPolicy;
  readonly now: () => number;
  readonly stopping: () => boolean;
}

/**
 * Runs every message of a queue batch on its own, at most `concurrency` at once, and lists the
 * ones to retry with their times, so that the caller acknowledges message by message.
 *
 * @param messages the batch
 * @param deps the dispatch function and limits
 * @returns the failures to retry and the messages that were not envelopes
 */
export async function handleBatch(messages: readonly BatchMessage[], deps: BatchDeps): Promise<BatchResult> {
  const { dispatch, concurrency, retry, now, stopping } = deps;
  const failures: BatchFailure[] = [];
  const invalid: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < messages.length) {
      const message = messages[next++];
      const sent = readEnvelope(message.body);
      if (!sent) {
        invalid.push(message.id);
        continue;
      }
      // A transport that redelivers the same body counts attempts itself.
      const envelope = { ...sent, attempt: sent.attempt + Math.max(0, (message.attempts ?? 1) - 1) };
      if (stopping()) {
        failures.push({ id: message.id, retryAt: now(), delay: 0, envelope });
        continue;
      }
      try {
        const outcome = await dispatch(envelope);
        if (outcome.status === "retry") {
          failures.push({
            id: message.id,
            retryAt: outcome.at,
            delay: Math.max(0, outcome.at - now()),
            envelope: outcome.envelope,
          });
        }
      } catch {
        // The record could not be read or saved: try the whole message again later.
        const delay = nextDelay(envelope.attempt, retry);
        failures.push({ id: message.id, retryAt: now() + delay, delay, envelope });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, messages.length) }, worker));
  return { failures, invalid };
}
