import { HttpError } from "./http_error.ts";

/** The largest request body the router reads: 256 KiB. */
export const MAX_BODY_BYTES: number = 256 * 1024;

/** How deeply a JSON body may nest arrays and objects. */
export const MAX_JSON_DEPTH = 64;

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;

/**
 * Refuses a request whose `Content-Type` is not JSON (`application/json`, with or without
 * parameters, or a `+json` type).
 *
 * @param contentType the header value
 * @throws {HttpError} 415 `unsupported_media_type`
 *
 * @example
 * ```ts
 * import { assertJsonType } from "./body.ts";
 * assertJsonType("application/json; charset=utf-8"); // fine
 * ```
 */
export function assertJsonType(contentType: string | undefined): void {
  if (contentType === undefined || !JSON_TYPE.test(contentType.trim())) {
    throw new HttpError(
      415,
      "unsupported_media_type",
      `Expected Content-Type: application/json, got ${
        contentType === undefined ? "none" : JSON.stringify(contentType)
      }`,
    );
  }
}

function tooLarge(size: number | undefined, max: number): HttpError {
  const seen = size === undefined ? `over ${max} bytes` : `${size} bytes`;
  return new HttpError(413, "too_large", `The body is ${seen}; at most ${max} bytes (256 KiB) are accepted`);
}

/**
 * Reads a request body, refusing it as soon as it is known to exceed `max` bytes: at once when
 * `Content-Length` says so, else while the stream is read (chunked bodies), cancelling the rest.
 * A body within its declared `Content-Length` is read in one call, which is faster.
 *
 * @param request the request
 * @param max the most bytes to accept
 * @returns the raw bytes
 * @throws {HttpError} 413 `too_large`
 *
 * @example
 * ```ts
 * import { readBody } from "./body.ts";
 * const bytes = await readBody(new Request("http://x/", { method: "POST", body: "{}" }), 1024);
 * console.log(bytes.length); // 2
 * ```
 */
export async function readBody(request: Request, max: number = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  const length = declared !== null && /^\d{1,15}$/.test(declared.trim()) ? Number(declared) : undefined;
  if (length !== undefined && length > max) throw tooLarge(length, max);
  if (!request.body) return new Uint8Array(0);
  if (length !== undefined && !request.headers.has("transfer-encoding")) {
    // The server frames the body by its Content-Length, so reading it whole reads at most max.
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.length > max) throw tooLarge(bytes.length, max);
    return bytes;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(undefined, max);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** One decoder for every body: without `stream`, each `decode` stands alone. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function depthOf(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92) i++; // backslash: skip the escaped character
      else if (ch === 34) inString = false;
    } else if (ch === 34) inString = true;
    else if (ch === 91 || ch === 123) deepest = Math.max(deepest, ++depth);
    else if (ch === 93 || ch === 125) depth--;
  }
  return deepest;
}

/**
 * Parses a raw body as UTF-8 JSON, refusing bodies nested deeper than `MAX_JSON_DEPTH` (deep
 * nesting would exhaust the stack of later checks, and no event needs it).
 *
 * @param bytes the raw body
 * @returns the parsed value
 * @throws {HttpError} 400 `invalid_json`
 *
 * @example
 * ```ts
 * import { parseJson } from "./body.ts";
 * console.log(parseJson(new TextEncoder().encode('{"a":1}'))); // { a: 1 }
 * ```
 */
export function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new HttpError(400, "invalid_json", "The body is not valid UTF-8");
  }
  if (depthOf(text) > MAX_JSON_DEPTH) {
    throw new HttpError(400, "invalid_json", `The body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    // Only a body that failed to parse is looked at again, to say which mistake it is.
    if (text.trim() === "") throw new HttpError(400, "invalid_json", "The body is empty: send JSON (null for no body)");
    throw new HttpError(400, "invalid_json", `The body is not valid JSON (${(error as Error).message})`);
  }
}
