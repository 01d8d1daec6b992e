/**
 * ThreadEvent: a flag threads can wait on, the threadloop `threading.Event`.
 *
 * Layout (Int32 words): STATE = generation << 1 | flag, and WAITING (waits in progress, for
 * `waiting`). STATE is also the wake word. Each `set()` of a clear flag starts a new generation,
 * and a waiter returns once the flag is set *or* the generation it started in has ended: so a
 * `set()` followed at once by `clear()` still lets through every waiter that was waiting at the
 * `set()`, even one that only runs after the `clear()` (CPython bpo-13502).
 */
import {
  noteShareableCreated,
  registerShareable,
  Revival,
  revive,
  type Shareable,
  sharedBuffer,
  type SharedDescriptor,
  toShared,
} from '../wire/shareable.js';
import {
  checkWaitOptions,
  NOT_YET,
  waitUntil,
  waitUntilSync,
  type NotYet,
  type SyncWaitOptions,
  type WaitCell,
  type WaitOptions,
} from './wait.js';

const STATE = 0;
const WAITING = 1;
const WORDS = 2;

/**
 * A set/clear flag shared by threads: `wait` returns once it is set, for every waiter — also a
 * waiter that wakes only after a `clear()` that came right after the `set()`. Named ThreadEvent
 * so it does not clash with the DOM `Event` global.
 *
 * @example
 * ```ts
 * const ready = new ThreadEvent();
 * const worker = ex.submit((ev) => { ev.waitSync(); return 'go'; }, ready);
 * ready.set();
 * await worker; // 'go'
 * ```
 */
export class ThreadEvent implements Shareable {
  readonly #sab: SharedArrayBuffer;
  readonly #i32: Int32Array;
  readonly #cell: WaitCell;

  constructor();
  constructor(revival?: Revival) {
    this.#sab = revival instanceof Revival ? revival.state : new SharedArrayBuffer(WORDS * 4);
    this.#i32 = new Int32Array(this.#sab);
    this.#cell = { i32: this.#i32, wake: STATE };
    noteShareableCreated();
  }

  /** Rebuilds a ThreadEvent from `[toShared]().state` (the wire does this on arrival). */
  static fromShared(state: unknown): ThreadEvent {
    return revive(ThreadEvent, sharedBuffer('ThreadEvent', state, WORDS * 4));
  }

  [toShared](): SharedDescriptor {
    return { kind: 'ThreadEvent', state: this.#sab };
  }

  /**
   * Sets the flag and wakes every waiter, in every thread.
   *
   * @example
   * ```ts
   * shutdown.set();
   * ```
   */
  set(): void {
    for (;;) {
      const s = Atomics.load(this.#i32, STATE);
      if ((s & 1) === 1) return;
      // A new generation, flag set: (s + 2) | 1 wraps around harmlessly, waiters compare with !==.
      if (Atomics.compareExchange(this.#i32, STATE, s, (s + 2) | 1) === s) break;
    }
    Atomics.notify(this.#i32, STATE);
  }

  /**
   * Clears the flag: later waits block until the next `set`. Waiters woken by an earlier `set`
   * still return.
   *
   * @example
   * ```ts
   * tick.clear();
   * ```
   */
  clear(): void {
    Atomics.and(this.#i32, STATE, ~1);
  }

  /** Whether the flag is set right now. */
  isSet(): boolean {
    return (Atomics.load(this.#i32, STATE) & 1) === 1;
  }

  /**
   * How many waits, on every thread, are waiting for the flag right now (a snapshot). A thread
   * killed while it waited (a terminated worker) stays counted.
   */
  get waiting(): number {
    return Atomics.load(this.#i32, WAITING);
  }

  /** The check of one wait: passes once the flag is set or the generation `from` has ended. */
  #passed(from: number): () => true | NotYet {
    return () => {
      const s = Atomics.load(this.#i32, STATE);
      return (s & 1) === 1 || s >>> 1 !== from >>> 1 ? true : NOT_YET;
    };
  }

  /**
   * Resolves with `true` once the flag is set (at once if it is), without blocking the event
   * loop. Rejects with `TimeoutError` after `timeoutMs`, or `AbortError` when `signal` aborts.
   *
   * @example
   * ```ts
   * await stop.wait({ timeoutMs: 5000 });
   * ```
   */
  async wait(opts?: WaitOptions): Promise<true> {
    checkWaitOptions(opts, 'ThreadEvent.wait');
    if (this.isSet()) return true;
    Atomics.add(this.#i32, WAITING, 1);
    try {
      return await waitUntil(this.#cell, this.#passed(Atomics.load(this.#i32, STATE)), opts, 'ThreadEvent.wait');
    } finally {
      Atomics.sub(this.#i32, WAITING, 1);
    }
  }

  /**
   * Blocks until the flag is set, then returns `true`; throws `TimeoutError` after `timeoutMs`.
   * Meant for worker threads; on the main thread it works but freezes the event loop while it
   * waits.
   *
   * @example
   * ```ts
   * while (!stop.isSet()) { step(); }
   * start.waitSync({ timeoutMs: 1000 });
   * ```
   */
  waitSync(opts?: SyncWaitOptions): true {
    checkWaitOptions(opts, 'ThreadEvent.waitSync');
    if (this.isSet()) return true;
    Atomics.add(this.#i32, WAITING, 1);
    try {
      return waitUntilSync(this.#cell, this.#passed(Atomics.load(this.#i32, STATE)), opts, 'ThreadEvent.waitSync');
    } finally {
      Atomics.sub(this.#i32, WAITING, 1);
    }
  }
}

registerShareable('ThreadEvent', (state) => ThreadEvent.fromShared(state));
