/**
 * A relay process for the outbox fault case: relays the outbox at $PG_URL to the router at
 * $REMOTE_URL until it is killed.
 */
import postgres from "postgres";
import process from "node:process";
import { postgresOutbox } from "../../adapters/postgres/mod.ts";
import { remoteBus } from "../../adapters/remote/mod.ts";

const sql = postgres(process.env.PG_URL!, { onnotice: () => {}, max: 2 });
const remote = remoteBus(process.env.REMOTE_URL!, { token: process.env.TOKEN });
postgresOutbox({ sql }).relay(remote, { batchSize: 50, lease: 2_000, pollInterval: 50, onError: () => {} });
console.log(`relay ${process.pid} started`);
