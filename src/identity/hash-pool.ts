import { availableParallelism } from "node:os";

/** Password and secret checks allowed to run at once: half the cores (at least one) stay free for the API. */
export const DEFAULT_HASH_CONCURRENCY = Math.max(1, Math.floor(availableParallelism() / 2));
/** Checks allowed to wait for a slot; beyond that a check is refused at once (about a second of work queued). */
export const DEFAULT_HASH_QUEUE = 32;

/** The pool is full: the caller answers "try again later". */
export class HashPoolBusy extends Error {}

/**
 * Bounds the scrypt work that unauthenticated callers can start. Each check costs ~50 ms of a core;
 * without a bound, a flood of guesses fills libuv's thread pool and every core, and the API starves.
 * A small counting semaphore with a bounded FIFO queue: nothing in the dependencies does exactly this
 * (p-limit has no queue bound), and it is a dozen lines.
 */
export class HashPool {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly maxConcurrent = DEFAULT_HASH_CONCURRENCY,
    readonly maxQueue = DEFAULT_HASH_QUEUE,
  ) {}

  /** Runs `fn` in a slot, waiting for one if needed; throws HashPoolBusy when the queue is full. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.maxConcurrent) {
      if (this.waiting.length >= this.maxQueue) throw new HashPoolBusy("Too many sign-in attempts are being checked; try again shortly.");
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `active` stays counted.
      if (next) next();
      else this.active--;
    }
  }
}
