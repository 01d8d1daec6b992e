/**
 * Timers for every `timeoutMs` threadloop takes. Node's `setTimeout` fires after 1 ms for any
 * delay of 2^31 ms or more (about 24.8 days), so a long timeout would expire at once; these
 * timers re-arm until the whole delay has passed, and `Infinity` means no timer at all.
 */

/** The longest delay `setTimeout` honours. */
const MAX_DELAY = 0x7fffffff;

/** A timer that can be cleared; one that was never armed (Infinity) clears as a no-op. */
export interface Timer {
  clear(): void;
}

const never: Timer = { clear() {} };

/**
 * Calls `fn` once after `ms` milliseconds, however long that is. `unref` lets the process exit
 * while the timer waits.
 *
 * @example
 * const timer = after(2 ** 32, () => console.log('about 50 days later'));
 * timer.clear();
 */
export function after(ms: number, fn: () => void, unref = false): Timer {
  if (ms === Infinity) return never;
  if (ms <= MAX_DELAY) {
    const handle = setTimeout(fn, ms);
    if (unref) handle.unref();
    return { clear: () => clearTimeout(handle) };
  }
  return new LongTimer(performance.now() + ms, fn, unref);
}

class LongTimer implements Timer {
  #handle: NodeJS.Timeout | undefined;

  constructor(
    readonly deadline: number,
    readonly fn: () => void,
    readonly unref: boolean,
  ) {
    this.#arm();
  }

  #arm(): void {
    const remaining = this.deadline - performance.now();
    if (remaining <= 0) {
      this.#handle = undefined;
      this.fn();
      return;
    }
    this.#handle = setTimeout(() => this.#arm(), Math.min(remaining, MAX_DELAY));
    if (this.unref) this.#handle.unref();
  }

  clear(): void {
    if (this.#handle !== undefined) clearTimeout(this.#handle);
    this.#handle = undefined;
  }
}
