/**
 * FNV-1a over a string's UTF-16 code units, as an unsigned 32-bit number: cheap, stable across
 * runtimes and releases, for sharding and for short names derived from ids (not for security).
 *
 * @param text what to hash
 * @param seed the offset basis; another seed gives an independent hash @default {0x811c9dc5}
 * @returns the hash, 0 to 2^32 - 1
 *
 * @example
 * ```ts
 * import { fnv1a } from "@edgebus/edgebus/driver";
 * console.log(fnv1a("user.joined") % 4); // the same shard in every process
 * ```
 */
export function fnv1a(text: string, seed: number = 0x811c9dc5): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
