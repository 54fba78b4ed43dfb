/**
 * Which process holds the scheduler's lease. A worker started with `LEASE_LOG=1` connects
 * through {@linkcode ownerTellingConnect}, which reports the owner name of the first lease write
 * it sends; the case reads the lease message itself with {@linkcode leaseOwner} and maps that
 * name back to the worker's pid.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import type { ConnectFn } from "../../adapters/nats/mod.ts";

const decoder = new TextDecoder();

/**
 * `wsconnect`, with the connection's `request` watched for the first write of the lease
 * (subject `<prefix>.meta.lease`, JSON `{ owner, until, cursor }`); `tell` gets its owner.
 */
export function ownerTellingConnect(prefix: string, tell: (owner: string) => void): ConnectFn {
  const subject = `${prefix}.meta.lease`;
  let told = false;
  return async (options) => {
    const nc = await wsconnect(options);
    const request = nc.request.bind(nc);
    nc.request = (subj, payload, opts) => {
      if (!told && subj === subject && payload !== undefined) {
        told = true;
        tell(JSON.parse(typeof payload === "string" ? payload : decoder.decode(payload)).owner);
      }
      return request(subj, payload, opts);
    };
    return nc;
  };
}

/** The lease as stored: who holds it, until when (epoch ms). */
export interface LeaseState {
  readonly owner: string;
  readonly until: number;
}

/** Reads the lease message of `prefix` (stream `<PREFIX>_META`); `undefined` before any. */
export async function leaseOwner(nc: NatsConnection, prefix: string): Promise<LeaseState | undefined> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const msg = await jsm.streams.getMessage(`${prefix.toUpperCase()}_META`, { last_by_subj: `${prefix}.meta.lease` });
  return msg?.json<LeaseState>();
}

/**
 * The pid of the worker holding an unexpired lease, from the lease message and the workers'
 * `owner <pid> <name>` ledger lines; `undefined` when nobody holds it (or no line names it yet).
 */
export async function leaderPid(nc: NatsConnection, prefix: string, ledger: string[][]): Promise<number | undefined> {
  const lease = await leaseOwner(nc, prefix);
  if (!lease || lease.until <= Date.now()) return undefined;
  const line = ledger.find(([what, , owner]) => what === "owner" && owner === lease.owner);
  return line ? Number(line[1]) : undefined;
}
