/**
 * Semaphore: a counter of permits in shared memory, the threadloop `threading.Semaphore`.
 *
 * Layout (Int32 words): VALUE (free permits), WAKE, WAITERS, the fairness gate, then LIMIT
 * (0 for a Semaphore; for a BoundedSemaphore its initial value + 1, which no release may pass).
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
import { HoldGuard, type LockGuard } from './mutex.js';
import {
  checkWaitOptions,
  Gate,
  GATE_WORDS,
  NOT_YET,
  waitUntil,
  waitUntilSync,
  wake,
  type NotYet,
  type SyncWaitOptions,
  type WaitCell,
  type WaitOptions,
} from './wait.js';

const VALUE = 0;
const WAKE = 1;
const WAITERS = 2;
const GATE = 3;
const LIMIT = GATE + GATE_WORDS;
const WORDS = LIMIT + 1;
const MAX_VALUE = 0x7ffffffe;


/**
 * Limits how many holders run at once, across threads: `acquire` takes a permit (waiting while
 * none is free), `release` gives one back. Permits are not owned: any thread may release, as with
 * Python's `Semaphore`. No waiter starves: one waiting more than a few milliseconds is served
 * next.
 *
 * @example
 * ```ts
 * const slots = new Semaphore(2); // at most two downloads at once, over all threads
 * await ex.submit((s, url) => s.runExclusiveSync(() => download(url)), slots, url);
 * ```
 */
export class Semaphore implements Shareable {
  readonly #sab: SharedArrayBuffer;
  readonly #i32: Int32Array;
  readonly #gate: Gate;
  readonly #cell: WaitCell;

  /** @param value the number of permits, an integer >= 0. */
  constructor(value?: number);
  constructor(value: number | Revival = 1) {
    const bounded = this instanceof BoundedSemaphore; // a subclass of it too
    if (!(value instanceof Revival)) {
      if (!Number.isInteger(value) || value < 0 || value > MAX_VALUE) {
        const kind = bounded ? 'BoundedSemaphore' : 'Semaphore';
        throw new RangeError(`${kind}: value must be an integer from 0 to ${MAX_VALUE} (got ${String(value)})`);
      }
    }
    this.#sab = value instanceof Revival ? value.state : new SharedArrayBuffer(WORDS * 4);
    this.#i32 = new Int32Array(this.#sab);
    if (!(value instanceof Revival)) {
      this.#i32[VALUE] = value;
      if (bounded) this.#i32[LIMIT] = value + 1;
    }
    this.#gate = new Gate(this.#i32, GATE);
    this.#cell = { i32: this.#i32, wake: WAKE, waiters: WAITERS, gate: this.#gate };
    noteShareableCreated();
  }

  /** Rebuilds a Semaphore from `[toShared]().state` (the wire does this on arrival). */
  static fromShared(state: unknown): Semaphore {
    return revive(Semaphore, sharedBuffer('Semaphore', state, WORDS * 4));
  }

  [toShared](): SharedDescriptor {
    return { kind: this.#i32[LIMIT] === 0 ? 'Semaphore' : 'BoundedSemaphore', state: this.#sab };
  }

  /** Free permits right now (a snapshot). */
  get value(): number {
    return Atomics.load(this.#i32, VALUE);
  }

  #take(allowed: boolean): boolean {
    if (!allowed) return false;
    for (;;) {
      const v = Atomics.load(this.#i32, VALUE);
      if (v <= 0) return false;
      if (Atomics.compareExchange(this.#i32, VALUE, v, v - 1) === v) return true;
    }
  }

  #guard(): LockGuard {
    let open = true;
    return new HoldGuard(
      () => {
        open = false;
        this.release();
      },
      () => open,
    );
  }

  /**
   * Takes a permit if one is free, without waiting.
   *
   * @example
   * ```ts
   * const g = sem.tryAcquire();
   * if (!g) return 'busy';
   * try { work(); } finally { g.release(); }
   * ```
   */
  tryAcquire(): LockGuard | undefined {
    return this.#take(!this.#gate.blocks(0)) ? this.#guard() : undefined;
  }

  /**
   * Waits for a permit without blocking the event loop. The guard gives it back.
   *
   * @example
   * ```ts
   * using _ = await sem.acquire({ signal });
   * ```
   */
  async acquire(opts?: WaitOptions): Promise<LockGuard> {
    checkWaitOptions(opts, 'Semaphore.acquire');
    if (!this.#take(!this.#gate.blocks(0))) {
      await waitUntil(
        this.#cell,
        (allowed): true | NotYet => (this.#take(allowed) ? true : NOT_YET),
        opts,
        'Semaphore.acquire',
      );
    }
    return this.#guard();
  }

  /**
   * Blocks the calling thread until a permit is free. Meant for worker threads; on the main thread
   * it works but freezes the event loop while it waits.
   *
   * @example
   * ```ts
   * const g = sem.acquireSync({ timeoutMs: 50 });
   * try { work(); } finally { g.release(); }
   * ```
   */
  acquireSync(opts?: SyncWaitOptions): LockGuard {
    checkWaitOptions(opts, 'Semaphore.acquireSync');
    waitUntilSync(
      this.#cell,
      (allowed): true | NotYet => (this.#take(allowed) ? true : NOT_YET),
      opts,
      'Semaphore.acquireSync',
    );
    return this.#guard();
  }

  /**
   * Gives `n` permits back (from any thread) and wakes waiters for them.
   *
   * @example
   * ```ts
   * const ready = new Semaphore(0);
   * ready.release(3); // let three waiters through
   * ```
   */
  release(n = 1): void {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`Semaphore.release: n must be an integer >= 1 (got ${String(n)})`);
    }
    const limit = (this.#i32[LIMIT] as number) - 1;
    for (;;) {
      const v = Atomics.load(this.#i32, VALUE);
      if (limit >= 0 && v + n > limit) {
        throw new RangeError(
          `BoundedSemaphore.release: released more often than acquired (the value would pass its initial ${limit})`,
        );
      }
      if (v > MAX_VALUE - n) throw new RangeError('Semaphore.release: the value would overflow');
      if (Atomics.compareExchange(this.#i32, VALUE, v, v + n) === v) break;
    }
    wake(this.#cell, n);
  }

  /**
   * Runs `fn` holding a permit and gives it back after, also when `fn` throws or rejects.
   *
   * @example
   * ```ts
   * await Promise.all(urls.map((u) => sem.runExclusive(() => fetch(u))));
   * ```
   */
  async runExclusive<R>(fn: () => R | PromiseLike<R>, opts?: WaitOptions): Promise<Awaited<R>> {
    const guard = await this.acquire(opts);
    try {
      return await fn();
    } finally {
      guard[Symbol.dispose]();
    }
  }

  /**
   * Blocking `runExclusive` for synchronous `fn` (see `acquireSync` about the main thread).
   *
   * @example
   * ```ts
   * sem.runExclusiveSync(() => useScarceResource());
   * ```
   */
  runExclusiveSync<R>(fn: () => R, opts?: SyncWaitOptions): R {
    const guard = this.acquireSync(opts);
    try {
      return fn();
    } finally {
      guard[Symbol.dispose]();
    }
  }
}

/**
 * A Semaphore that refuses to be released above its initial value — Python's
 * `threading.BoundedSemaphore`: a release without a matching acquire is a bug, and it throws a
 * `RangeError` (Python's `ValueError`) instead of silently letting one more holder in.
 *
 * @example
 * ```ts
 * const connections = new BoundedSemaphore(10);
 * await connections.runExclusive(() => query(sql));
 * connections.release(); // RangeError: released more often than acquired
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  /** @param value the number of permits, and the most there may ever be; an integer >= 0. */
  constructor(value?: number);
  constructor(value: number | Revival = 1) {
    super(value as number);
  }

  /** Rebuilds a BoundedSemaphore from `[toShared]().state` (the wire does this on arrival). */
  static override fromShared(state: unknown): BoundedSemaphore {
    return revive(BoundedSemaphore, sharedBuffer('BoundedSemaphore', state, WORDS * 4));
  }
}

registerShareable('Semaphore', (state) => Semaphore.fromShared(state));
registerShareable('BoundedSemaphore', (state) => BoundedSemaphore.fromShared(state));
