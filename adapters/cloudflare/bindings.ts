import { EdgebusError } from "../../mod.ts";
import type { DurableObjectNamespaceLike, QueueBinding, WorkerEnv } from "./platform.ts";

/** The names of the bindings the adapter uses, as declared in `wrangler.toml`. */
export interface BindingNames {
  /** The Queue producer events go to unless a route says otherwise. @default {"EDGEBUS_QUEUE"} */
  readonly queue?: string;
  /** The Durable Object namespace of {@linkcode EdgebusStore}. @default {"EDGEBUS_STORE"} */
  readonly store?: string;
  /** The Durable Object namespace of {@linkcode EdgebusScheduler}. @default {"EDGEBUS_SCHEDULER"} */
  readonly scheduler?: string;
}

/** The default binding names. */
export const DEFAULT_BINDINGS: Required<BindingNames> = Object.freeze({
  queue: "EDGEBUS_QUEUE",
  store: "EDGEBUS_STORE",
  scheduler: "EDGEBUS_SCHEDULER",
});

/** The bindings, checked and ready. */
export interface Bindings {
  /** Queue producers by binding name. */
  readonly queues: ReadonlyMap<string, QueueBinding>;
  /** The records and large bodies. */
  readonly store: DurableObjectNamespaceLike;
  /** The delayed events. */
  readonly scheduler: DurableObjectNamespaceLike;
}

/**
 * A binding the adapter needs is missing from the Worker's environment, or is not of the
 * expected kind. The message names the binding and the `wrangler.toml` lines that declare it.
 *
 * @example
 * ```ts
 * import { MissingBindingError } from "./mod.ts";
 * const error = new MissingBindingError("EDGEBUS_QUEUE", "a Queue producer", "[[queues.producers]]");
 * console.log(error.binding, error.code); // EDGEBUS_QUEUE unavailable
 * ```
 */
export class MissingBindingError extends EdgebusError {
  /** The binding's name. */
  readonly binding: string;

  /**
   * Makes the error.
   *
   * @param binding the binding's name
   * @param kind what it should be, such as `a Queue producer`
   * @param toml the `wrangler.toml` lines that declare it
   * @param found what the environment held under that name, if anything
   */
  constructor(binding: string, kind: string, toml: string, found?: unknown) {
    const seen = found === undefined ? "it is missing" : `found a ${typeof found} that is not one`;
    super("unavailable", `Cannot use binding "${binding}": expected ${kind}, ${seen}; add to wrangler.toml:\n${toml}`);
    this.name = "MissingBindingError";
    this.binding = binding;
  }
}

function queueToml(binding: string): string {
  const queue = binding.toLowerCase().replaceAll("_", "-");
  return `[[queues.producers]]\nbinding = "${binding}"\nqueue = "${queue}"\n\n[[queues.consumers]]\nqueue = "${queue}"\ndead_letter_queue = "edgebus-dlq"`;
}

function objectToml(binding: string, className: string): string {
  return `[[durable_objects.bindings]]\nname = "${binding}"\nclass_name = "${className}"\n\n[[migrations]]\ntag = "edgebus-v1"\nnew_sqlite_classes = ["${className}"]\n(and re-export ${className} from your Worker's main module)`;
}

function isQueue(value: unknown): value is QueueBinding {
  const q = value as Partial<QueueBinding> | undefined;
  return typeof q?.send === "function" && typeof q.sendBatch === "function";
}

function isNamespace(value: unknown): value is DurableObjectNamespaceLike {
  const ns = value as Partial<DurableObjectNamespaceLike> | undefined;
  return typeof ns?.idFromName === "function" && typeof ns.get === "function";
}

/**
 * Finds and checks every binding the adapter needs.
 *
 * @param env the Worker's environment
 * @param names the binding names
 * @param routeQueues the queue bindings that routes send to, beside the default one
 * @returns the bindings
 * @throws {MissingBindingError} when one is missing or of the wrong kind
 */
export function resolveBindings(
  env: WorkerEnv,
  names: Required<BindingNames>,
  routeQueues: readonly string[],
): Bindings {
  const queues = new Map<string, QueueBinding>();
  for (const name of [names.queue, ...routeQueues]) {
    const value = env[name];
    if (!isQueue(value)) throw new MissingBindingError(name, "a Queue producer", queueToml(name), value);
    queues.set(name, value);
  }
  const store = env[names.store];
  if (!isNamespace(store)) {
    throw new MissingBindingError(
      names.store,
      "a Durable Object namespace",
      objectToml(names.store, "EdgebusStore"),
      store,
    );
  }
  const scheduler = env[names.scheduler];
  if (!isNamespace(scheduler)) {
    throw new MissingBindingError(
      names.scheduler,
      "a Durable Object namespace",
      objectToml(names.scheduler, "EdgebusScheduler"),
      scheduler,
    );
  }
  return { queues, store, scheduler };
}
