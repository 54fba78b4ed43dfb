/**
 * The syntax the router checks, as the regular expressions its OpenAPI document gives (JSON
 * Schema `pattern`s, ECMAScript syntax without flags). Each mirrors a check of the bus, which
 * stays the judge: ranges (a delay of at most a year) are in the descriptions, not here.
 */

/** An event id or idempotency key. */
export const ID_PATTERN = "^[A-Za-z0-9_.:-]{1,256}$";

/** An event's origin: 1 to 256 printable ASCII characters. */
export const ORIGIN_PATTERN = "^[ -~]{1,256}$";

/** An event name: tokens split by single dots (its length, at most 256, is a `maxLength`). */
export const NAME_PATTERN = "^[A-Za-z0-9_:-]+(?:\\.[A-Za-z0-9_:-]+)*$";

/** A name filter: a name whose tokens may be `*`, and whose last token may be `>`. */
export const NAME_FILTER_PATTERN = "^(?:(?:[A-Za-z0-9_:-]+|\\*)\\.)*(?:[A-Za-z0-9_:-]+|\\*|>)$";

/** A word matched in any case (`[Dd][Aa][Yy]`): units are read case-insensitively. */
const anyCase = (word: string): string => [...word].map((c) => `[${c.toUpperCase()}${c}]`).join("");

const UNITS = ["second", "minute", "hour", "day", "week", "month", "year"].map(anyCase).join("|");
const RELATIVE = `\\d+(?:\\.\\d+)?\\s*(?:${UNITS})[Ss]?`;
const ISO = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d{1,9})?)?(?:Z|[+-]\\d{2}:\\d{2})";

/** `after` in a JSON body as text: `"<n> <unit>"` or an ISO-8601 date (numbers are JSON numbers). */
export const AFTER_TEXT_PATTERN: string = `^\\s*(?:${RELATIVE}|${ISO})\\s*$`;

/** `after` in a query or header: also digits, read as a number of ms (or epoch ms). */
export const AFTER_HTTP_PATTERN: string = `^\\s*(?:\\d{1,16}|${RELATIVE}|${ISO})\\s*$`;
