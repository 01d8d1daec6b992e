/**
 * A ThreadQueue's `taskDone()` / `join()` (Python's `queue.Queue`): how many items were put and
 * how many were marked done, two counters in the queue's header, and a wait cell that wakes the
 * joiners when the two meet.
 */
import { DONES, JOIN_WAITERS, JOIN_WAKE, PUTS } from './queue-layout.js';
import { checkWaitOptions, NOT_YET, waitUntil, waitUntilSync, wake, type NotYet, type SyncWaitOptions, type WaitCell, type WaitOptions } from './wait.js';

export class QueueJoin {
  readonly #cell: WaitCell;

  constructor(readonly i32: Int32Array) {
    this.#cell = { i32, wake: JOIN_WAKE, waiters: JOIN_WAITERS };
  }

  /** Items put and not yet marked done (a snapshot). */
  get unfinished(): number {
    return (Atomics.load(this.i32, PUTS) - Atomics.load(this.i32, DONES)) | 0;
  }

  /** Marks `n` items done; throws a RangeError if fewer than `n` are unfinished. */
  done(n: number): void {
    const i32 = this.i32;
    for (;;) {
      const done = Atomics.load(i32, DONES);
      const left = (Atomics.load(i32, PUTS) - done) | 0;
      if (left < n) throw new RangeError('ThreadQueue.taskDone: called more times than items were put');
      if (Atomics.compareExchange(i32, DONES, done, (done + n) | 0) !== done) continue;
      if (left === n) wake(this.#cell, Infinity);
      return;
    }
  }

  readonly #joined = (): true | NotYet => (this.unfinished <= 0 ? true : NOT_YET);

  /** Resolves once every item put is done. */
  async join(opts: WaitOptions | undefined): Promise<void> {
    checkWaitOptions(opts, 'ThreadQueue.join');
    if (this.#joined() === true) return;
    await waitUntil(this.#cell, this.#joined, opts, 'ThreadQueue.join');
  }

  /** Blocks until every item put is done. */
  joinSync(opts: SyncWaitOptions | undefined): void {
    checkWaitOptions(opts, 'ThreadQueue.joinSync');
    waitUntilSync(this.#cell, this.#joined, opts, 'ThreadQueue.joinSync');
  }
}
