import { EdgebusError } from "../../../mod.ts";
import { assertRouterOptions } from "../options.ts";

/** Options of {@linkcode dashboard}. */
export interface DashboardOptions {
  /** The tokens that sign in (the router's bearer tokens); several allow rotation. */
  readonly tokens?: readonly string[];
  /** `false` serves the dashboard without sign-in, on purpose (behind a gateway that does it). @default {undefined} */
  readonly auth?: false;
  /** Shows everything and changes nothing: the action buttons are hidden and their routes refuse. @default {false} */
  readonly readOnly?: boolean;
  /** How long a sign-in lasts, ms. @default {43200000} (12 hours) */
  readonly sessionTtl?: number;
  /** How often open pages ask whether something changed, ms (0: never). @default {3000} */
  readonly pollInterval?: number;
  /** The title in the page header. @default {"edgebus"} */
  readonly title?: string;
  /** Told about unexpected errors, which are shown without details. @default {console.error} */
  readonly onError?: (error: unknown) => void;
  /** The clock, epoch ms. @default {Date.now} */
  readonly now?: () => number;
}

/**
 * Checks the dashboard's options: tokens, or `auth: false` given on purpose, as the router asks.
 *
 * @param options the options
 * @throws {EdgebusError} code `invalid_option` when no auth is configured, or a token or a number is unusable
 */
export function assertDashboardOptions(options: DashboardOptions): void {
  const { tokens, auth, sessionTtl, pollInterval } = options;
  try {
    assertRouterOptions({ tokens, auth });
  } catch (error) {
    if (error instanceof EdgebusError) {
      throw new EdgebusError("invalid_option", error.message.replace("the router", "the dashboard"));
    }
    throw error;
  }
  if (sessionTtl !== undefined && (!Number.isInteger(sessionTtl) || sessionTtl < 60_000)) {
    throw new EdgebusError("invalid_option", `Invalid sessionTtl ${sessionTtl}: expected whole ms of at least 60000`);
  }
  if (pollInterval !== undefined && (!Number.isInteger(pollInterval) || (pollInterval !== 0 && pollInterval < 500))) {
    throw new EdgebusError("invalid_option", `Invalid pollInterval ${pollInterval}: expected 0 or whole ms >= 500`);
  }
}
