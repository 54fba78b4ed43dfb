/**
 * Which deliveries may run their handler without first reading the event's outcome.
 *
 * The read before a handler answers three questions: was the event cancelled, did this handler
 * already finish it, and at which version is the outcome written over. For an event published
 * without a delay, delivered for the first time on the handler's event consumer, the first cannot
 * be (such events cannot be cancelled) and the second can only after JetStream forgot that it had
 * delivered the message: a server that restarted from a consumer state older than its last acks,
 * or a consumer leader elected before the old one's deliveries reached it. Both happen to messages
 * already in the stream when the lane was disrupted (a disconnect, missed heartbeats, a reopen),
 * and after such a disruption JetStream hands out consumer sequences it had handed out before.
 * So a lane trusts a first delivery only for a message stored after the stream's last sequence
 * as read after the lane's latest disruption, and while consumer sequences keep rising. The
 * result is then written as "nothing there yet" (a compare-and-set on sequence 0): when another
 * handler wrote first, the write is refused, the outcome read and the write made again, and the
 * lane reads first from then on for that event name.
 */
import type { JsMsg } from "@nats-io/jetstream";

/** Names remembered as taken by more than one handler, per lane (beyond it, every name reads first). */
const SHARED_NAMES = 1_000;
/** ms between tries to learn the stream's last sequence while they fail. */
const RETRY_EVERY = 1_000;

/** A lane's view of which first deliveries it can trust. */
export class FirstDeliveries {
  /** Messages at or below this stream sequence were stored before the latest disruption. */
  #below = Infinity;
  #generation = 0;
  #asking = false;
  #failedAt = -Infinity;
  #lastDelivery = 0;
  readonly #shared = new Set<string>();
  readonly #lastSequence: () => Promise<number>;
  readonly #clock: () => number;

  /**
   * @param lastSequence reads the stream's last sequence
   * @param clock a monotonic clock, ms
   */
  constructor(lastSequence: () => Promise<number>, clock: () => number = () => performance.now()) {
    this.#lastSequence = lastSequence;
    this.#clock = clock;
  }

  /** The lane was disrupted: trust nothing stored so far. */
  disrupted(): void {
    this.#below = Infinity;
    this.#generation++;
    this.#asking = false;
    this.#failedAt = -Infinity;
    this.#learn();
  }

  /**
   * Notes a message delivered on the lane, whatever becomes of it: a consumer sequence at or
   * below one seen before means JetStream hands out deliveries again.
   *
   * @param msg the delivered message
   */
  delivered(msg: JsMsg): void {
    const { deliverySequence } = msg.info;
    if (deliverySequence <= this.#lastDelivery) this.disrupted();
    this.#lastDelivery = deliverySequence;
  }

  /**
   * Whether a delivery (already noted by {@linkcode delivered}) of an event named `name` may
   * skip the outcome read.
   *
   * @param msg the delivered message
   * @param name the event's name
   * @returns true when it is a first delivery stored after the latest disruption
   */
  trusts(msg: JsMsg, name: string): boolean {
    if (this.#below === Infinity) this.#learn();
    const { deliveryCount, streamSequence } = msg.info;
    return deliveryCount === 1 && streamSequence > this.#below && !this.#shared.has(name);
  }

  /** Another handler wrote this name's outcome first: read first for it from now on. */
  shared(name: string): void {
    if (this.#shared.size < SHARED_NAMES) this.#shared.add(name);
  }

  #learn(): void {
    if (this.#asking || this.#clock() - this.#failedAt < RETRY_EVERY) return;
    this.#asking = true;
    const generation = this.#generation;
    this.#lastSequence().then(
      (seq) => {
        if (generation !== this.#generation) return;
        this.#asking = false;
        this.#below = seq;
      },
      () => {
        if (generation !== this.#generation) return;
        this.#asking = false;
        this.#failedAt = this.#clock();
      },
    );
  }
}
