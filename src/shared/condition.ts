/**
 * Condition: wait for a change announced by another thread, under a Mutex or an RLock — the
 * threadloop `threading.Condition`.
 *
 * Layout (Int32 words): COUNTS (waiting << 16 | signals), WAKE, WAITERS, then the fairness gate.
 * `notify(n)` turns up to n registered waiters into signals; a waiter leaves by consuming one.
 * Keeping both counts in one word lets a timing-out waiter decide atomically whether a signal was
 * meant for it (signals == waiting: it must take one) or not (it just leaves), so a notify is never
 * lost to a waiter that gave up.
 */
import {
  noteShareableCreated,
  registerShareable,
  Revival,
  revive,
  type Shareable,
  type SharedDescriptor,
  toShared,
} from '../wire/shareable.js';
import { lockInternals, Mutex, type LockInternals } from './mutex.js';
import { RLock } from './rlock.js';
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
import { TimeoutError } from '../wire/errors.js';

const COUNTS = 0;
const WAKE = 1;
const WAITERS = 2;
const GATE = 3;
const WORDS = GATE + GATE_WORDS;
const MAX_WAITING = 0xffff;

interface State {
  cond: SharedArrayBuffer;
  kind: 'Mutex' | 'RLock';
  lock: unknown;
}

/** What `fromShared` hands the constructor: the revived lock and the condition's own buffer. */
interface Revived {
  lock: Mutex | RLock;
  cond: SharedArrayBuffer;
}

function isState(v: unknown): v is State {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as { cond?: unknown }).cond instanceof SharedArrayBuffer &&
    (v as { cond: SharedArrayBuffer }).cond.byteLength === WORDS * 4 &&
    ((v as State).kind === 'Mutex' || (v as State).kind === 'RLock')
  );
}

/**
 * Lets threads sleep until another thread changes shared state and says so. Call `wait` holding
 * the lock: it releases it while sleeping (an RLock entirely, however deep) and holds it again
 * when it returns — also when it throws. Wake-ups can race with other threads changing the state,
 * so wait in a loop on your predicate (or use `waitFor`). Ownership is per thread: two async
 * functions on one thread are the same owner to the Condition. `new Condition()` makes its own
 * RLock, as Python does.
 *
 * @example
 * ```ts
 * const lock = new Mutex(); // or an RLock
 * const ready = new Condition(lock);
 * // consumer (any thread)
 * using _ = await lock.acquire();
 * await ready.waitFor(() => box[0] !== 0);
 * // producer (another thread)
 * lock.runExclusiveSync(() => { box[0] = 1; ready.notifyAll(); });
 * ```
 */
export class Condition implements Shareable {
  /** The lock this condition releases while waiting (named `mutex` also when it is an RLock). */
  readonly mutex: Mutex | RLock;
  readonly #sab: SharedArrayBuffer;
  readonly #i32: Int32Array;
  readonly #cell: WaitCell;

  /** @param lock the Mutex or RLock that guards the shared state; a new RLock by default. */
  constructor(lock?: Mutex | RLock);
  constructor(lockOrRevival: Mutex | RLock | Revival<Revived> = new RLock()) {
    const lock = lockOrRevival instanceof Revival ? lockOrRevival.state.lock : lockOrRevival;
    if (!(lock instanceof Mutex) && !(lock instanceof RLock)) {
      throw new TypeError('Condition: the lock must be a threadloop Mutex or RLock');
    }
    this.mutex = lock;
    this.#sab = lockOrRevival instanceof Revival ? lockOrRevival.state.cond : new SharedArrayBuffer(WORDS * 4);
    this.#i32 = new Int32Array(this.#sab);
    this.#cell = { i32: this.#i32, wake: WAKE, waiters: WAITERS, gate: new Gate(this.#i32, GATE) };
    noteShareableCreated();
  }

  /** Rebuilds a Condition (and its Mutex) from `[toShared]().state`. */
  static fromShared(state: unknown): Condition {
    if (!isState(state)) {
      throw new TypeError('Condition.fromShared: expected the state of a Condition');
    }
    const lock = state.kind === 'RLock' ? RLock.fromShared(state.lock) : Mutex.fromShared(state.lock);
    return revive(Condition, { lock, cond: state.cond } satisfies Revived);
  }

  [toShared](): SharedDescriptor {
    const lock = this.mutex[toShared]();
    const kind = this.mutex instanceof RLock ? 'RLock' : 'Mutex';
    return { kind: 'Condition', state: { cond: this.#sab, kind, lock: lock.state } satisfies State };
  }

  #lock(): LockInternals<unknown> {
    return this.mutex[lockInternals]() as LockInternals<unknown>;
  }

  #register(where: string): void {
    for (;;) {
      const c = Atomics.load(this.#i32, COUNTS);
      if (c >>> 16 >= MAX_WAITING) throw new RangeError(`${where}: too many waiters (max ${MAX_WAITING})`);
      if (Atomics.compareExchange(this.#i32, COUNTS, c, c + 0x10000) === c) return;
    }
  }

  #consume(allowed: boolean): true | NotYet {
    if (!allowed) return NOT_YET;
    for (;;) {
      const c = Atomics.load(this.#i32, COUNTS);
      if ((c & 0xffff) === 0) return NOT_YET;
      if (Atomics.compareExchange(this.#i32, COUNTS, c, c - 0x10001) === c) return true;
    }
  }

  /** A waiter that gave up leaves; returns true if it had to take a signal (it was notified). */
  #leave(): boolean {
    for (;;) {
      const c = Atomics.load(this.#i32, COUNTS);
      const notified = (c & 0xffff) === c >>> 16;
      const next = notified ? c - 0x10001 : c - 0x10000;
      if (Atomics.compareExchange(this.#i32, COUNTS, c, next) === c) return notified;
    }
  }

  /**
   * Releases the mutex, waits for a notify, and re-acquires the mutex, without blocking the event
   * loop. On `TimeoutError`/`AbortError` the mutex is held again too. Throws `LockNotOwnedError`
   * when this thread does not hold the mutex.
   *
   * @example
   * ```ts
   * using _ = await lock.acquire();
   * while (queue.length === 0) await cond.wait({ timeoutMs: 1000 });
   * ```
   */
  async wait(opts?: WaitOptions): Promise<void> {
    checkWaitOptions(opts, 'Condition.wait');
    const m = this.#lock();
    const token = m.held('Condition.wait');
    this.#register('Condition.wait');
    m.unlock(token);
    try {
      await waitUntil(this.#cell, (allowed) => this.#consume(allowed), opts, 'Condition.wait');
    } catch (err) {
      if (!this.#leave()) throw err;
    } finally {
      await m.relock(token);
    }
  }

  /**
   * Blocking `wait`: meant for worker threads; on the main thread it works but freezes the event
   * loop while it waits.
   *
   * @example
   * ```ts
   * lock.runExclusiveSync(() => { while (!done[0]) cond.waitSync(); });
   * ```
   */
  waitSync(opts?: SyncWaitOptions): void {
    checkWaitOptions(opts, 'Condition.waitSync');
    const m = this.#lock();
    const token = m.held('Condition.waitSync');
    this.#register('Condition.waitSync');
    m.unlock(token);
    try {
      waitUntilSync(this.#cell, (allowed) => this.#consume(allowed), opts, 'Condition.waitSync');
    } catch (err) {
      if (!this.#leave()) throw err;
    } finally {
      m.relockSync(token);
    }
  }

  /**
   * Waits until `predicate()` returns a truthy value and returns it; the predicate runs holding
   * the mutex. `timeoutMs` bounds the whole wait.
   *
   * @example
   * ```ts
   * using _ = await lock.acquire();
   * await cond.waitFor(() => state[0] === DONE, { timeoutMs: 5000 });
   * ```
   */
  async waitFor<R>(predicate: () => R, opts?: WaitOptions): Promise<R> {
    checkWaitOptions(opts, 'Condition.waitFor');
    const deadline = performance.now() + (opts?.timeoutMs ?? Infinity);
    for (;;) {
      const r = predicate();
      if (r) return r;
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        throw new TimeoutError(`Condition.waitFor timed out after ${opts?.timeoutMs} ms`);
      }
      await this.wait({ timeoutMs: remaining, signal: opts?.signal });
    }
  }

  /**
   * Blocking `waitFor` (see `waitSync` about the main thread).
   *
   * @example
   * ```ts
   * lock.runExclusiveSync(() => cond.waitForSync(() => flags[0] === 1));
   * ```
   */
  waitForSync<R>(predicate: () => R, opts?: SyncWaitOptions): R {
    checkWaitOptions(opts, 'Condition.waitForSync');
    const deadline = performance.now() + (opts?.timeoutMs ?? Infinity);
    for (;;) {
      const r = predicate();
      if (r) return r;
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        throw new TimeoutError(`Condition.waitForSync timed out after ${opts?.timeoutMs} ms`);
      }
      this.waitSync({ timeoutMs: remaining });
    }
  }

  /**
   * Wakes up to `n` threads waiting right now (later waiters are not affected). Call it holding
   * the mutex, as with Python; `LockNotOwnedError` otherwise.
   *
   * @example
   * ```ts
   * lock.runExclusiveSync(() => { items.push(x); cond.notify(); });
   * ```
   */
  notify(n = 1): void {
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`Condition.notify: n must be an integer >= 0 (got ${String(n)})`);
    }
    this.#lock().held('Condition.notify');
    for (;;) {
      const c = Atomics.load(this.#i32, COUNTS);
      const waiting = c >>> 16;
      const signals = c & 0xffff;
      const next = Math.min(signals + n, waiting);
      if (next === signals) return;
      if (Atomics.compareExchange(this.#i32, COUNTS, c, (waiting << 16) | next) === c) {
        wake(this.#cell, next - signals);
        return;
      }
    }
  }

  /**
   * Wakes every thread waiting right now.
   *
   * @example
   * ```ts
   * lock.runExclusiveSync(() => { done[0] = 1; cond.notifyAll(); });
   * ```
   */
  notifyAll(): void {
    this.notify(MAX_WAITING);
  }
}

registerShareable('Condition', (state) => Condition.fromShared(state));
