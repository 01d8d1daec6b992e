/**
 * The calls of a pool that wait for a worker, oldest first.
 *
 * A queued call that is cancelled or aborted settles where it is and is not searched out of the
 * deque: it is counted out at once (`released`) and skipped when it comes up. So `size` is the
 * number of calls still waiting, which is what `maxQueue`, `stats()` and `drained()` mean.
 */
import type { Call } from '../core/calls.js';
import { Deque } from '../core/deque.js';

export class PoolQueue {
  readonly #deque = new Deque<Call>();
  #size = 0;

  /** Calls still waiting. */
  get size(): number {
    return this.#size;
  }

  push(call: Call): void {
    this.#deque.push(call);
    this.#size++;
  }

  /** Puts calls back at the front, keeping their order (those a dead worker had not started). */
  requeue(calls: readonly Call[]): void {
    for (let i = calls.length - 1; i >= 0; i--) this.#deque.unshift(calls[i]!);
    this.#size += calls.length;
  }

  /** The oldest call still waiting, left in place (`take` removes it). */
  peek(): Call | undefined {
    while (this.#size > 0) {
      const call = this.#deque.peek()!;
      if (call.state === 'queued') return call;
      this.#deque.shift(); // settled while it waited: already counted out
    }
    return undefined;
  }

  /** Removes the call `peek` returned: it goes to a worker. */
  take(): void {
    this.#deque.shift();
    this.#size--;
    this.#dropSettled();
  }

  /** A waiting call settled where it is (cancelled, aborted, dropped). */
  released(): void {
    this.#size--;
    this.#dropSettled();
  }

  /**
   * Drops the settled calls at the front: an idle pool must not hold their arguments (a large
   * buffer, a loop handle's port) until the next call comes. (Only settled ones: the count can
   * run a call behind while a dead worker's calls go back in the queue.)
   */
  #dropSettled(): void {
    while (this.#deque.size > 0 && this.#deque.peek()!.state !== 'queued') this.#deque.shift();
  }

  /**
   * Takes the waiting calls `match` picks out of the deque, in order; the rest keep theirs. They
   * stay counted until each is settled where it is (`released`), as a cancelled one is.
   */
  extract(match: (call: Call) => boolean): Call[] {
    const out: Call[] = [];
    for (const call of this.#deque.drain()) {
      if (call.state !== 'queued') continue; // settled while it waited: already counted out
      if (match(call)) out.push(call);
      else this.#deque.push(call);
    }
    return out;
  }

  /** Empties the deque, yielding every call in it, settled ones too. */
  drain(): Iterable<Call> {
    return this.#deque.drain();
  }
}
