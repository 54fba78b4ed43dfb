/**
 * The parts of the Workers platform the adapter uses, typed structurally so that the published
 * types do not force `@cloudflare/workers-types` on users. Real bindings satisfy them.
 */

/** Options of one message sent to a Queue. */
export interface QueueSendOptions {
  /** Hold the message back this many whole seconds. */
  readonly delaySeconds?: number;
  /** How the body is encoded; edgebus sends `json`. */
  readonly contentType?: "json" | "text" | "bytes" | "v8";
}

/** One message of a `sendBatch` call. */
export interface QueueSendRequest extends QueueSendOptions {
  /** The message body. */
  readonly body: unknown;
}

/** A Queue producer binding (`[[queues.producers]]`). */
export interface QueueBinding {
  /** Sends one message. */
  send(body: unknown, options?: QueueSendOptions): Promise<unknown>;
  /** Sends up to 100 messages, 256 KB in all. */
  sendBatch(messages: Iterable<QueueSendRequest>, options?: { readonly delaySeconds?: number }): Promise<unknown>;
}

/** A message as a queue consumer receives it. */
export interface QueueMessage {
  /** The platform's id for the message. */
  readonly id: string;
  /** The body as sent. */
  readonly body: unknown;
  /** How many times it has been delivered, from 1. */
  readonly attempts: number;
  /** Acknowledges the message: it will not be delivered again. */
  ack(): void;
  /** Delivers the message again later, counting one more attempt. */
  retry(options?: { readonly delaySeconds?: number }): void;
}

/** A batch as the Worker's `queue()` handler receives it. */
export interface QueueBatch {
  /** The name of the queue (not the binding). */
  readonly queue: string;
  /** The messages. */
  readonly messages: readonly QueueMessage[];
}

/**
 * A Durable Object stub. edgebus calls its objects' methods through Workers RPC when the stub
 * has them (real stubs do), and otherwise with JSON over `fetch`.
 */
export interface DurableObjectStubLike {
  /** Sends a request to the object. */
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

/** A Durable Object namespace binding (`[[durable_objects.bindings]]`). */
export interface DurableObjectNamespaceLike {
  /** The id of the object with this name. */
  idFromName(name: string): unknown;
  /** A stub for an id. */
  get(id: never): DurableObjectStubLike;
}

/** A cursor over the rows of a SQL statement. */
export interface SqlCursorLike {
  /** All rows. */
  toArray(): Record<string, unknown>[];
  /** How many rows the statement wrote. */
  readonly rowsWritten: number;
}

/** The SQLite storage of a Durable Object (`ctx.storage.sql`). */
export interface SqlStorageLike {
  /** Runs one statement with bound values. */
  exec(query: string, ...bindings: unknown[]): SqlCursorLike;
}

/** The durable storage of a Durable Object. */
export interface DurableObjectStorageLike {
  /** The SQLite API (classes declared in `new_sqlite_classes`). */
  readonly sql: SqlStorageLike;
  /** Runs `fn` in one transaction. */
  transactionSync<T>(fn: () => T): T;
  /** When the alarm is set for, epoch ms, or null. */
  getAlarm(): Promise<number | null>;
  /** Arms the one alarm of the object. */
  setAlarm(at: number): Promise<void>;
  /** Disarms it. */
  deleteAlarm(): Promise<void>;
}

/** The state a Durable Object's constructor receives. */
export interface DurableObjectStateLike {
  /** Its storage. */
  readonly storage: DurableObjectStorageLike;
  /** Runs `fn` before any event reaches the object. */
  blockConcurrencyWhile<T>(fn: () => Promise<T>): Promise<T>;
}

/** What a Worker's `fetch` receives as its third argument. */
export interface ExecutionContextLike {
  /** Keeps the Worker alive until the promise settles. */
  waitUntil(promise: Promise<unknown>): void;
  /** Lets the request go to the origin when the Worker throws. */
  passThroughOnException?(): void;
}

/** The Worker's environment: its bindings by name. */
export type WorkerEnv = Readonly<Record<string, unknown>>;
