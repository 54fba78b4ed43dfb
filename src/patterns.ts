import { EdgebusError } from "./errors.ts";

/** The longest event name allowed. */
export const MAX_NAME_LENGTH = 256;

const NAME = /^[A-Za-z0-9_:-]+(?:\.[A-Za-z0-9_:-]+)*$/;
const TOKEN = /^(?:[A-Za-z0-9_:-]+|\*|>)$/;

function describe(name: string): string {
  if (name.length === 0) return "it is empty";
  if (name.length > MAX_NAME_LENGTH) return `it is ${name.length} characters long (at most ${MAX_NAME_LENGTH})`;
  if (name.split(".").some((token) => token === "")) return "the name has an empty token";
  return "use only letters, digits and _ . : -";
}

/**
 * Checks an event name: 1–256 characters of `[A-Za-z0-9_.:-]`, with no empty token between
 * dots.
 *
 * @param name the name to check
 * @throws {EdgebusError} code `invalid_name`
 *
 * @example
 * ```ts
 * import { assertName } from "@edgebus/edgebus";
 * assertName("user.joined"); // fine
 * ```
 */
export function assertName(name: unknown): asserts name is string {
  if (typeof name !== "string") {
    throw new EdgebusError("invalid_name", `Cannot publish ${String(name)}: an event name must be a string`);
  }
  if (name.length === 0 || name.length > MAX_NAME_LENGTH || !NAME.test(name)) {
    throw new EdgebusError("invalid_name", `Cannot publish ${JSON.stringify(name)}: ${describe(name)}`);
  }
}

/** A compiled name pattern. */
export type Matcher = (name: string) => boolean;

/**
 * Compiles a NATS-style pattern: tokens are separated by dots, `*` matches one token and `>`
 * (last only) one or more.
 *
 * @param pattern a name or a pattern, such as `user.*` or `billing.>`
 * @returns a function telling whether a name matches
 * @throws {EdgebusError} code `invalid_pattern`
 *
 * @example
 * ```ts
 * import { compilePattern } from "@edgebus/edgebus/driver";
 * const matches = compilePattern("user.*");
 * console.log(matches("user.joined"), matches("user.a.b")); // true false
 * ```
 */
export function compilePattern(pattern: string): Matcher {
  const tokens = typeof pattern === "string" ? pattern.split(".") : [];
  const valid = typeof pattern === "string" && pattern.length > 0 && pattern.length <= MAX_NAME_LENGTH &&
    tokens.every((token, i) => TOKEN.test(token) && (token !== ">" || i === tokens.length - 1));
  if (!valid) {
    throw new EdgebusError(
      "invalid_pattern",
      `Invalid pattern ${
        JSON.stringify(pattern)
      }: use dot-separated tokens, "*" for one token and ">" last for the rest`,
    );
  }
  if (!pattern.includes("*") && !pattern.includes(">")) return (name) => name === pattern;
  return (name) => {
    const parts = name.split(".");
    for (let i = 0; i < tokens.length; i++) {
      if (tokens[i] === ">") return parts.length > i;
      if (i >= parts.length || (tokens[i] !== "*" && tokens[i] !== parts[i])) return false;
    }
    return parts.length === tokens.length;
  };
}
