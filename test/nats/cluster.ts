/**
 * Test harness: a real JetStream cluster of `nats-server` processes on free loopback ports, one
 * process per node with its own config file and store directory, each with a WebSocket
 * listener. Works under Node, Deno and Bun (node: APIs).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { jetstreamManager } from "@nats-io/jetstream";
import { wsconnect } from "@nats-io/nats-core";
import { connect as tcpConnect } from "@nats-io/transport-node";
import { accepts, freePort } from "../lib/ports.ts";
import { hasWebSocket } from "./helpers.ts";
import { findBinary } from "./server.ts";

/** One node of a running cluster. */
export interface ClusterNode {
  /** Its `server_name`, as stream and consumer infos name leaders. */
  readonly name: string;
  /** `ws://127.0.0.1:<port>` for `wsconnect`. */
  readonly wsUrl: string;
  /** `127.0.0.1:<port>` for a TCP client. */
  readonly tcpUrl: string;
  /** Whether its process runs. */
  readonly running: boolean;
  /** Kills the process with SIGKILL and waits until it is gone; the store is kept. */
  kill(): Promise<void>;
  /** Stops the process with SIGTERM (nats-server's graceful shutdown) and waits until it is gone; the store is kept. */
  terminate(): Promise<void>;
  /** Starts the process again on the same ports and store. */
  restart(): Promise<void>;
  /** Sends SIGSTOP or SIGCONT to the process (a paused node falls behind, then catches up); false if none runs. */
  signal(name: "SIGSTOP" | "SIGCONT"): boolean;
}

/** A running cluster. */
export interface NatsCluster {
  readonly nodes: readonly ClusterNode[];
  /** Every node's WebSocket URL: what a client connects with. */
  readonly wsUrls: string[];
  /** Every node's TCP address. */
  readonly tcpUrls: string[];
  /** The node whose `server_name` is `name`. */
  node(name: string): ClusterNode;
  /** Stops every process and removes the stores. */
  stop(): Promise<void>;
}

interface Ports {
  tcp: number;
  ws: number;
  route: number;
}

/**
 * Starts a JetStream cluster (`cluster { name: edgebus }`) of `size` nodes on free loopback
 * ports and waits until JetStream answers with a meta leader (a few seconds).
 *
 * @param size how many nodes (3 unless told)
 * @param config more lines of each node's configuration (users and their permissions, say)
 * @returns the running cluster
 */
export async function startNatsCluster(size = 3, config: readonly string[] = []): Promise<NatsCluster> {
  const bin = findBinary();
  const dir = mkdtempSync(join(tmpdir(), "edgebus-cluster-"));
  const ports: Ports[] = [];
  for (let i = 0; i < size; i++) ports.push({ tcp: await freePort(), ws: await freePort(), route: await freePort() });
  const nodes = ports.map((p, i) => createNode(bin, dir, `n${i + 1}`, p, ports.filter((o) => o !== p), config));
  process.once("exit", () => {
    for (const n of nodes) n.child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  await Promise.all(nodes.map((n) => n.restart()));
  await waitForJetStream(nodes);
  return {
    nodes,
    wsUrls: nodes.map((n) => n.wsUrl),
    tcpUrls: nodes.map((n) => n.tcpUrl),
    node(name) {
      const found = nodes.find((n) => n.name === name);
      if (!found) throw new Error(`no node is named ${name}`);
      return found;
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function createNode(
  bin: string,
  root: string,
  name: string,
  own: Ports,
  others: Ports[],
  more: readonly string[],
): ClusterNode & { child?: ChildProcess } {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const config = join(dir, "nats.conf");
  writeFileSync(
    config,
    [
      `server_name: ${name}`,
      `listen: "127.0.0.1:${own.tcp}"`,
      `jetstream { store_dir: "${join(dir, "js")}", max_memory_store: 256MB, max_file_store: 4GB }`,
      `websocket { listen: "127.0.0.1:${own.ws}", no_tls: true, compression: false }`,
      `cluster {`,
      `  name: edgebus`,
      `  listen: "127.0.0.1:${own.route}"`,
      `  routes: [${others.map((o) => `"nats-route://127.0.0.1:${o.route}"`).join(", ")}]`,
      `}`,
      ...more,
    ].join("\n"),
  );
  let log = "";
  const end = async (signal: "SIGKILL" | "SIGTERM"): Promise<void> => {
    const proc = node.child;
    node.child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill(signal);
    await exited;
  };
  const node: ClusterNode & { child?: ChildProcess } = {
    name,
    wsUrl: `ws://127.0.0.1:${own.ws}`,
    tcpUrl: `127.0.0.1:${own.tcp}`,
    get running() {
      return node.child !== undefined && node.child.exitCode === null && node.child.signalCode === null;
    },
    async restart() {
      const proc = spawn(bin, ["-c", config], { stdio: ["ignore", "ignore", "pipe"] });
      node.child = proc;
      proc.stderr?.on("data", (chunk) => (log = (log + String(chunk)).slice(-4000)));
      const end = Date.now() + 10_000;
      while (Date.now() < end) {
        if (proc.exitCode !== null) throw new Error(`nats-server ${name} exited with ${proc.exitCode}: ${log}`);
        if (await accepts(own.ws) && await accepts(own.tcp)) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      proc.kill("SIGKILL");
      throw new Error(`nats-server ${name} did not accept on port ${own.ws} within 10 s: ${log}`);
    },
    signal(signal) {
      return node.running && node.child!.kill(signal);
    },
    kill: () => end("SIGKILL"),
    terminate: () => end("SIGTERM"),
  };
  return node;
}

/**
 * Waits until the cluster's JetStream has a meta leader: account info answers. Over WebSocket
 * where the runtime has one, else over TCP (Node 20).
 */
async function waitForJetStream(nodes: readonly ClusterNode[], ms = 30_000): Promise<void> {
  const nc = hasWebSocket
    ? await wsconnect({ servers: nodes.map((n) => n.wsUrl) })
    : await tcpConnect({ servers: nodes.map((n) => n.tcpUrl) });
  try {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const end = Date.now() + ms;
    for (;;) {
      try {
        await jsm.getAccountInfo();
        return;
      } catch (error) {
        if (Date.now() > end) throw new Error(`the cluster's JetStream did not answer within ${ms} ms: ${error}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await nc.close();
  }
}
