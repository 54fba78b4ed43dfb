import { parseAfter } from "./after.ts";

/** A machine-readable reason for an {@linkcode EdgebusError}. */
export type ErrorCode =
  | "invalid_name"
  | "invalid_pattern"
  | "invalid_delay"
  | "invalid_id"
  | "invalid_body"
  | "invalid_option"
  | "invalid_schedule"
  | "too_large"
  | "not_serializable"
  | "duplicate_handler"
  | "stopped"
  | "unavailable"
  | "not_found"
  | "conflict";

/**
 * The base class of every error edgebus throws on purpose. Branch on `code`, which is stable,
 * rather than on the message, which is for people.
 *
 * @example Branching on the code
 * ```ts
 * import { createBus, EdgebusError } from "@edgebus/edgebus";
 * const bus = createBus();
 * try {
 *   await bus.publish("user..joined", {});
 * } catch (error) {
 *   if (error instanceof EdgebusError && error.code === "invalid_name") console.log(error.message);
 * }
 * ```
 */
export class EdgebusError extends Error {
  /** What went wrong, as a stable string. */
  readonly code: ErrorCode;

  /**
   * Makes an error with a code.
   *
   * @param code the stable reason
   * @param message what was wrong and the value seen
   * @param options `cause` is passed through
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EdgebusError";
    this.code = code;
  }
}

/** One problem a schema found in an event body. */
export interface ValidationIssue {
  /** What is wrong. */
  readonly message: string;
  /** Where in the body, as keys and indexes. */
  readonly path?: readonly PropertyKey[];
}

/**
 * A body refused by the schema registered for its event name (code `invalid_body`).
 *
 * @example
 * ```ts
 * import { ValidationError } from "@edgebus/edgebus";
 * const error = new ValidationError("user.joined", [{ message: "Expected string", path: ["email"] }]);
 * console.log(error.issues.length); // 1
 * ```
 */
export class ValidationError extends EdgebusError {
  /** Every problem the schema reported. */
  readonly issues: readonly ValidationIssue[];

  /**
   * Makes the error from a schema's issues.
   *
   * @param name the event name whose schema refused the body
   * @param issues the problems found
   */
  constructor(name: string, issues: readonly ValidationIssue[]) {
    const first = issues[0];
    const where = first?.path?.length ? ` at ${first.path.map(String).join(".")}` : "";
    super(
      "invalid_body",
      `Cannot publish "${name}": the body does not match its schema (${issues.length} issue${
        issues.length === 1 ? "" : "s"
      }; first: ${first?.message ?? "unknown"}${where})`,
    );
    this.name = "ValidationError";
    this.issues = issues;
  }
}

/**
 * Thrown by a handler to give up at once: the event goes straight to dead letters, with no
 * further attempts.
 *
 * @example
 * ```ts
 * import { createBus, NonRetriableError } from "@edgebus/edgebus";
 * const bus = createBus();
 * bus.on("order.placed", (event) => {
 *   if (!event.body) throw new NonRetriableError("An order needs a body");
 * });
 * ```
 */
export class NonRetriableError extends Error {
  /**
   * Makes the error.
   *
   * @param message why retrying cannot help
   * @param options `cause` is passed through
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NonRetriableError";
  }
}

/**
 * Thrown by a handler to be retried at a time it chooses (a rate limit's `Retry-After`, say)
 * instead of the retry policy's next delay. `after` takes the forms `publish` accepts; one it
 * cannot read is refused when the error is made, naming the value (rather than falling back to
 * the policy unnoticed).
 *
 * @throws {EdgebusError} code `invalid_delay` when `after` is not a delay `publish` accepts
 *
 * @example
 * ```ts
 * import { createBus, RetryAfterError } from "@edgebus/edgebus";
 * const bus = createBus();
 * bus.on("email.send", () => {
 *   throw new RetryAfterError("30 seconds", "The mail server is rate limiting us");
 * });
 * ```
 */
export class RetryAfterError extends Error {
  /** When to try again: ms, an epoch, an ISO string, a Date or `"<n> <unit>"`. */
  readonly after: number | string | Date;

  /**
   * Makes the error.
   *
   * @param after when to try again
   * @param message why
   * @param options `cause` is passed through
   */
  constructor(after: number | string | Date, message?: string, options?: ErrorOptions) {
    super(message ?? `Retry requested after ${String(after)}`, options);
    this.name = "RetryAfterError";
    try {
      parseAfter(after, Date.now());
    } catch (error) {
      throw new EdgebusError(
        "invalid_delay",
        `Invalid RetryAfterError: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.after = after;
  }
}
