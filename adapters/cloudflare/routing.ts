import { EdgebusError } from "../../mod.ts";
import { compilePattern, type Matcher } from "../../driver/mod.ts";

/** Sends events whose name matches `pattern` to the Queue producer `queue`. */
export interface Route {
  /** A name or NATS-style pattern, such as `billing.>`. */
  readonly pattern: string;
  /** The Queue producer binding, such as `BILLING_QUEUE`. */
  readonly queue: string;
}

/**
 * Compiles routes: the first route whose pattern matches an event's name picks its queue, as
 * backendjs routes subjects to queues; events no route matches go to the default queue.
 *
 * @param routes the routes, first match wins
 * @param fallback the default queue binding
 * @returns the queue binding for an event name
 * @throws {EdgebusError} `invalid_pattern` for a bad pattern, `invalid_option` for a bad route
 */
export function compileRoutes(routes: readonly Route[], fallback: string): (name: string) => string {
  const compiled: [Matcher, string][] = routes.map((route) => {
    if (typeof route?.queue !== "string" || route.queue === "") {
      throw new EdgebusError(
        "invalid_option",
        `Invalid route ${JSON.stringify(route)}: expected { pattern, queue } with a queue binding name`,
      );
    }
    return [compilePattern(route.pattern), route.queue];
  });
  return (name) => compiled.find(([matches]) => matches(name))?.[1] ?? fallback;
}
