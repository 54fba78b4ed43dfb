/** Loopback ports for the harnesses that start real servers (nats-server, Postgres, wrangler). */
import { createConnection, createServer } from "node:net";

/** Ports handed out by this process, never handed out twice. */
const handedOut = new Set<number>();

/**
 * A free TCP port on loopback, below Linux's ephemeral range (32768 and up). A port the kernel
 * picked for a listener a moment ago is in that range, and closing the probe frees it for the
 * next outgoing connection too: the routes and clients of a cluster starting at the same time
 * then took it before its nats-server could listen on it ("address already in use", 4 times in
 * about 30 cluster starts in a row).
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port) || !await canListen(port)) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error("No free loopback port between 20000 and 31999");
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/** Whether something accepts connections on a loopback port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
