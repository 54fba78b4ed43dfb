import type { ValidationIssue } from "../../mod.ts";

/** The HTTP statuses the router answers errors with. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 503;

/** The JSON body of every error response: `{ "error": { "code", "message" } }`. */
export interface ErrorBody {
  /** What went wrong. */
  readonly error: {
    /** A stable, machine-readable reason, such as `invalid_name` or `forbidden`. */
    readonly code: string;
    /** What was wrong and the value seen, for people. */
    readonly message: string;
    /** Every problem a schema found, for `invalid_body`. */
    readonly issues?: readonly { readonly message: string; readonly path?: (string | number)[] }[];
  };
}

/**
 * An error the router turns into a JSON response with its status. Route code throws it; the
 * router's error handler writes `{ "error": { "code", "message" } }`.
 *
 * @example
 * ```ts
 * import { HttpError } from "./mod.ts";
 * const error = new HttpError(415, "unsupported_media_type", "Expected application/json");
 * console.log(error.status, error.code); // 415 unsupported_media_type
 * ```
 */
export class HttpError extends Error {
  /** The HTTP status. */
  readonly status: ErrorStatus;
  /** The stable reason. */
  readonly code: string;
  /** Headers to send with the response, such as `Retry-After`. */
  readonly headers: Readonly<Record<string, string>>;

  /**
   * Creates an error answered with `status` and `{ "error": { code, message } }`.
   *
   * @param status the HTTP status
   * @param code the stable reason
   * @param message what was wrong
   * @param headers extra response headers
   * @param options `cause` is passed through
   */
  constructor(
    status: ErrorStatus,
    code: string,
    message: string,
    headers: Readonly<Record<string, string>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/**
 * Builds the JSON error body, with the schema issues when there are some.
 *
 * @param code the stable reason
 * @param message what was wrong
 * @param issues the problems a schema found
 * @returns the body to send
 *
 * @example
 * ```ts
 * import { errorBody } from "./mod.ts";
 * console.log(errorBody("not_found", "No event \"a\"")); // { error: { code: "not_found", ... } }
 * ```
 */
export function errorBody(code: string, message: string, issues?: readonly ValidationIssue[]): ErrorBody {
  if (!issues) return { error: { code, message } };
  return {
    error: {
      code,
      message,
      issues: issues.map((issue) => ({
        message: issue.message,
        ...(issue.path ? { path: issue.path.map((key) => typeof key === "number" ? key : String(key)) } : {}),
      })),
    },
  };
}
