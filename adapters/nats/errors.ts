import { EdgebusError } from "../../mod.ts";

/**
 * Wraps a transport failure in an `unavailable` error that says what was being done.
 *
 * @param doing what failed, such as `publish "user.joined"`
 * @param error what the client threw
 * @returns the error to throw
 */
export function unavailable(doing: string, error: unknown): EdgebusError {
  if (error instanceof EdgebusError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const code = apiCode(error);
  // nats.js reports "no responders" on a JetStream subject as "jetstream is not enabled", which
  // is also what a stream without a leader (an election on a cluster) looks like.
  const noLeader = code === undefined && /jetstream is not enabled|no responders/i.test(reason);
  const why = code !== undefined && INSUFFICIENT_RESOURCES.includes(code)
    ? `JetStream is out of storage (${reason}): free space or raise max_file_store / max_memory_store`
    : code !== undefined
    ? `NATS refused it (${reason})`
    : noLeader
    ? "JetStream had no one to answer: the stream has no leader at the moment (a leader election on a cluster, " +
      "which takes seconds; or a server starting), or JetStream is not enabled on the server"
    : /timeout/i.test(reason)
    ? `NATS did not answer in time (${reason}): the server is unreachable or busy, or on a cluster the stream's ` +
      "leader died and a new leader election is under way"
    : `NATS did not answer (${reason})`;
  return new EdgebusError("unavailable", `Cannot ${doing}: ${why}`, { cause: error });
}

/** The `err_code` of a JetStream API error (nats.js exposes it as `code`), or undefined for other errors. */
function apiCode(error: unknown): number | undefined {
  // deno-lint-ignore no-explicit-any
  const e = error as any;
  const code = e?.api_error?.err_code ?? e?.code;
  return typeof code === "number" ? code : undefined;
}

/** True when a JetStream API error has this error code (`err_code`). */
export function hasApiCode(error: unknown, code: number): boolean {
  return apiCode(error) === code;
}

/** `err_code`s of "insufficient resources" and "insufficient storage resources": a JetStream limit is reached. */
export const INSUFFICIENT_RESOURCES: readonly number[] = [10023, 10047];
/** `err_code` of "wrong last sequence", the failed compare-and-set of an expected sequence. */
export const WRONG_LAST_SEQUENCE = 10071;
/** `err_code` of "consumer not found". */
export const CONSUMER_NOT_FOUND = 10014;
/** `err_code` of "stream not found". */
export const STREAM_NOT_FOUND = 10059;
/** `err_code` of "stream name already in use with a different configuration". */
export const STREAM_NAME_IN_USE = 10058;
/** `err_code` of "subjects overlap with an existing stream". */
export const SUBJECTS_OVERLAP = 10065;
