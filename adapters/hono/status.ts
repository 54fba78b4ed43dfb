import { EdgebusError, type ErrorCode, ValidationError } from "../../mod.ts";
import { type ErrorBody, errorBody, type ErrorStatus, HttpError } from "./http_error.ts";

const STATUS: Readonly<Record<ErrorCode, ErrorStatus>> = {
  invalid_name: 400,
  invalid_pattern: 400,
  invalid_delay: 400,
  invalid_id: 400,
  invalid_body: 400,
  invalid_option: 400,
  invalid_schedule: 400,
  not_serializable: 400,
  too_large: 413,
  not_found: 404,
  conflict: 409,
  stopped: 503,
  unavailable: 503,
  duplicate_handler: 500,
};

/** An error as the router answers it: a status, headers and the JSON body. */
export interface ErrorAnswer {
  /** The HTTP status. */
  readonly status: ErrorStatus;
  /** Extra headers, such as `Retry-After`. */
  readonly headers: Readonly<Record<string, string>>;
  /** `{ "error": { "code", "message" } }`. */
  readonly body: ErrorBody;
}

/**
 * Maps an error to its HTTP answer: {@linkcode HttpError} keeps its status; an `EdgebusError`
 * gets the status of its code (invalid input 400, `too_large` 413, `not_found` 404, `conflict`
 * 409, `stopped`/`unavailable` 503); anything else is a 500 whose message reveals nothing.
 *
 * @param error what was thrown
 * @returns the status, headers and body to send
 *
 * @example
 * ```ts
 * import { EdgebusError } from "../../mod.ts";
 * import { toErrorAnswer } from "./mod.ts";
 * console.log(toErrorAnswer(new EdgebusError("invalid_name", "Bad name")).status); // 400
 * ```
 */
export function toErrorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof HttpError) {
    return { status: error.status, headers: error.headers, body: errorBody(error.code, error.message) };
  }
  if (error instanceof EdgebusError) {
    const status = STATUS[error.code] ?? 500;
    const headers: Record<string, string> = status === 503 ? { "Retry-After": "5" } : {};
    const issues = error instanceof ValidationError ? error.issues : undefined;
    return { status, headers, body: errorBody(error.code, error.message, issues) };
  }
  return { status: 500, headers: {}, body: errorBody("internal", "The server failed to handle the request") };
}
