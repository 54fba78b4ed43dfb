import { EdgebusError } from "../../mod.ts";
import type { RateLimitOptions } from "./rate_limit.ts";

/** Options of {@linkcode router}. */
export interface RouterOptions {
  /** Accepted bearer tokens; several allow rotation. Required on every route but `health` and `openapi.json`. */
  readonly tokens?: readonly string[];
  /** Accepted `Edgebus-Signature` secrets; several allow rotation. When set, every protected request must be signed. */
  readonly signingSecrets?: readonly string[];
  /** `false` serves without any auth, on purpose (behind a gateway that does it, say). @default {undefined} */
  readonly auth?: false;
  /** A per-client token bucket (per bearer token when tokens are set), answering 429 with `Retry-After`. @default {undefined} (no limit) */
  readonly rateLimit?: RateLimitOptions;
  /** Fields merged into the OpenAPI document, such as `info` and `servers`. @default {{}} */
  readonly openapi?: { readonly info?: Record<string, unknown>; readonly servers?: readonly { url: string }[] };
  /** Told about unexpected errors, which are answered 500 without details. @default {console.error} */
  readonly onError?: (error: unknown) => void;
  /** The clock, epoch ms, for signature timestamps and rate limits. @default {Date.now} */
  readonly now?: () => number;
}

const TOKEN = /^[\x21-\x7e]+$/;

function assertSecrets(field: string, values: readonly string[] | undefined): void {
  if (values === undefined) return;
  if (!Array.isArray(values) || values.length === 0) {
    throw new EdgebusError("invalid_option", `Invalid ${field}: expected a non-empty array of strings`);
  }
  values.forEach((value, i) => {
    if (value === undefined || value === null || value === "") {
      throw new EdgebusError(
        "invalid_option",
        `Invalid ${field}[${i}]: the value is missing (${
          value === "" ? "an empty string" : String(value)
        }); is the environment variable you read it from set?`,
      );
    }
    if (typeof value !== "string" || !TOKEN.test(value)) {
      throw new EdgebusError("invalid_option", `Invalid ${field}[${i}]: expected visible ASCII without spaces`);
    }
    if (value.length < 16) {
      throw new EdgebusError(
        "invalid_option",
        `Invalid ${field}[${i}]: ${value.length} characters is too short to guess-proof (at least 16)`,
      );
    }
  });
}

/**
 * Checks the router's options: some auth must be configured, or `auth: false` given on purpose.
 *
 * @param options the options
 * @throws {EdgebusError} code `invalid_option` when no auth is configured, when `auth: false`
 * comes with credentials, or when a token or secret is empty, short or holds spaces
 *
 * @example
 * ```ts
 * import { assertRouterOptions } from "./options.ts";
 * assertRouterOptions({ tokens: ["tok_0123456789abcdef"] }); // fine
 * ```
 */
export function assertRouterOptions(options: RouterOptions): void {
  const { tokens, signingSecrets, auth } = options;
  if (auth !== undefined && auth !== false) {
    throw new EdgebusError(
      "invalid_option",
      `Invalid auth ${JSON.stringify(auth)}: only false (no auth, on purpose) is accepted`,
    );
  }
  assertSecrets("tokens", tokens);
  assertSecrets("signingSecrets", signingSecrets);
  const configured = tokens !== undefined || signingSecrets !== undefined;
  if (auth === false && configured) {
    throw new EdgebusError(
      "invalid_option",
      "Cannot create the router: auth: false contradicts the tokens or signingSecrets given",
    );
  }
  if (auth !== false && !configured) {
    throw new EdgebusError(
      "invalid_option",
      "Cannot create the router without auth: pass tokens or signingSecrets, or auth: false to serve without auth on purpose",
    );
  }
}
