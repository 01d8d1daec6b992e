/**
 * ThreadEvent: a flag threads can wait on, the threadloop `threading.Event`.
 *
 * Layout (Int32 words): FLAG (0/1) — also the wake word: waiters sleep while it reads 0.
 */
import {
  noteShareableCreated,
  registerShareable,
  sharedBuffer,
  toShared,
  type Shareable,
  type SharedDescriptor,
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

const FLAG = 0;
const WORDS = 1;

let reviving: SharedArrayBuffer | undefined;

/**
 * A set/clear flag shared by threads: `wait` returns once it is set, for every waiter. Named
 * ThreadEvent so it does not clash with the DOM `Event` global.
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

  constructor() {
    this.#sab = reviving ?? new SharedArrayBuffer(WORDS * 4);
    reviving = undefined;
    this.#i32 = new Int32Array(this.#sab);
    this.#cell = { i32: this.#i32, wake: FLAG };
    noteShareableCreated();
  }

  /** Rebuilds a ThreadEvent from `[toShared]().state` (the wire does this on arrival). */
  static fromShared(state: unknown): ThreadEvent {
    reviving = sharedBuffer('ThreadEvent', state, WORDS * 4);
    return new ThreadEvent();
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
    if (Atomics.exchange(this.#i32, FLAG, 1) === 0) Atomics.notify(this.#i32, FLAG);
  }

  /**
   * Clears the flag: later waits block until the next `set`.
   *
   * @example
   * ```ts
   * tick.clear();
   * ```
   */
  clear(): void {
    Atomics.store(this.#i32, FLAG, 0);
  }

  /** Whether the flag is set right now. */
  isSet(): boolean {
    return Atomics.load(this.#i32, FLAG) === 1;
  }

  #check = (): true | NotYet => (Atomics.load(this.#i32, FLAG) === 1 ? true : NOT_YET);

  /**
   * Resolves once the flag is set (at once if it is), without blocking the event loop.
   *
   * @example
   * ```ts
   * await stop.wait({ timeoutMs: 5000 });
   * ```
   */
  async wait(opts?: WaitOptions): Promise<void> {
    checkWaitOptions(opts, 'ThreadEvent.wait');
    if (this.isSet()) return;
    await waitUntil(this.#cell, this.#check, opts, 'ThreadEvent.wait');
  }

  /**
   * Blocks until the flag is set. Meant for worker threads; on the main thread it works but
   * freezes the event loop while it waits.
   *
   * @example
   * ```ts
   * while (!stop.isSet()) { step(); }
   * start.waitSync({ timeoutMs: 1000 });
   * ```
   */
  waitSync(opts?: SyncWaitOptions): void {
    checkWaitOptions(opts, 'ThreadEvent.waitSync');
    waitUntilSync(this.#cell, this.#check, opts, 'ThreadEvent.waitSync');
  }
}

registerShareable('ThreadEvent', (state) => ThreadEvent.fromShared(state));
