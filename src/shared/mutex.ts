/**
 * Mutex: a non-reentrant lock in shared memory, the threadloop `threading.Lock`.
 *
 * Layout (Int32 words): STATE (0 = free, else the holder thread's owner token, see owner.ts),
 * HOLD (which hold of that thread it is), WAKE, WAITERS, then the fairness gate. STATE says which
 * thread holds the lock, so `release()` from the wrong thread is caught; HOLD tells apart
 * successive holds by the same thread, so a stale guard cannot release a newer hold.
 */
import { DeadlockError } from '../wire/errors.js';
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
import { LockNotOwnedError } from './errors.js';
import { THREAD_TOKEN } from './owner.js';
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

const STATE = 0;
const HOLD = 1;
const WAKE = 2;
const WAITERS = 3;
const GATE = 4;
const WORDS = GATE + GATE_WORDS;

let holdCounter = 0;

/** A fresh number for one hold of a lock by this thread (never 0). */
export function newHold(): number {
  holdCounter = (holdCounter + 1) | 0;
  if (holdCounter === 0) holdCounter = 1;
  return holdCounter;
}

/**
 * What `acquire` returns: proof of one hold. `using` releases it at the end of the block.
 *
 * @example
 * ```ts
 * {
 *   using _ = await mutex.acquire();
 *   counter.value += 1;
 * } // released here, also on throw
 * ```
 */
export interface LockGuard extends Disposable {
  /** Releases this hold. Throws `LockNotOwnedError` if it was already released. */
  release(): void;
  /** True once this hold was released (through the guard or otherwise). */
  readonly released: boolean;
}

/** A guard around a release function; used by Mutex and Semaphore. */
export class HoldGuard implements LockGuard {
  #release: (() => void) | undefined;
  readonly #stillHeld: () => boolean;

  constructor(release: () => void, stillHeld: () => boolean) {
    this.#release = release;
    this.#stillHeld = stillHeld;
  }

  get released(): boolean {
    return this.#release === undefined || !this.#stillHeld();
  }

  release(): void {
    const release = this.#release;
    if (release === undefined) throw new LockNotOwnedError('this guard was already released');
    this.#release = undefined;
    release();
  }

  /** Releases the hold if it is still this guard's; quiet otherwise, so `using` never throws. */
  [Symbol.dispose](): void {
    if (this.#release !== undefined && this.#stillHeld()) this.release();
    this.#release = undefined;
  }
}

/** The parts of a lock (Mutex or RLock) a Condition needs. Not public API. */
export interface LockInternals<S> {
  /** This thread's current hold, to give back later; throws LockNotOwnedError if it holds none. */
  held(where: string): S;
  /** Gives the lock up entirely, without any ownership message. */
  unlock(saved: S): void;
  /** Re-takes the lock as the saved hold, ignoring timeouts: a Condition must get it back. */
  relock(saved: S): Promise<void>;
  relockSync(saved: S): void;
}

/** Symbol under which a Mutex or RLock exposes its internals to Condition. */
export const lockInternals: unique symbol = Symbol('threadloop.lockInternals');

/**
 * A lock shared by every thread it is passed to (as a task argument, nested anywhere in one, or
 * in a result). Not reentrant: a second `acquire` from the thread that holds it waits like any
 * other — async acquires from the same thread queue behind each other, and `acquireSync` on a
 * thread that already holds it throws `DeadlockError` instead of blocking forever.
 * Not strictly FIFO, but no waiter starves: one that waits more than a few milliseconds gets the
 * lock next.
 *
 * @example
 * ```ts
 * const lock = new Mutex();
 * await ex.submit((m, n) => { for (let i = 0; i < n; i++) m.runExclusiveSync(() => work()); }, lock, 100);
 * await lock.runExclusive(async () => { await other(); });
 * ```
 */
export class Mutex implements Shareable {
  readonly #sab: SharedArrayBuffer;
  readonly #i32: Int32Array;
  readonly #cell: WaitCell;
  readonly #gate: Gate;

  constructor();
  constructor(revival?: Revival) {
    const sab = revival instanceof Revival ? revival.state : new SharedArrayBuffer(WORDS * 4);
    this.#sab = sab;
    this.#i32 = new Int32Array(sab);
    this.#gate = new Gate(this.#i32, GATE);
    this.#cell = { i32: this.#i32, wake: WAKE, waiters: WAITERS, gate: this.#gate };
    noteShareableCreated();
  }

  /** Rebuilds a Mutex from `[toShared]().state` (the wire does this on arrival). */
  static fromShared(state: unknown): Mutex {
    return revive(Mutex, sharedBuffer('Mutex', state, WORDS * 4));
  }

  [toShared](): SharedDescriptor {
    return { kind: 'Mutex', state: this.#sab };
  }

  /** True while some thread holds the lock. A snapshot: it may change right after. */
  get locked(): boolean {
    return Atomics.load(this.#i32, STATE) !== 0;
  }

  #guard(hold: number): LockGuard {
    return new HoldGuard(
      () => this.#unlockHold(hold),
      () => this.#holds(hold),
    );
  }

  /** Whether this thread holds the lock as `hold`. Only this thread changes HOLD while it does. */
  #holds(hold: number): boolean {
    return Atomics.load(this.#i32, STATE) === THREAD_TOKEN && Atomics.load(this.#i32, HOLD) === hold;
  }

  #attempt(hold: number, allowed: boolean): boolean {
    if (!allowed || Atomics.compareExchange(this.#i32, STATE, 0, THREAD_TOKEN) !== 0) return false;
    Atomics.store(this.#i32, HOLD, hold);
    return true;
  }

  #unlockHold(hold: number): void {
    if (!this.#holds(hold)) {
      throw new LockNotOwnedError('this guard no longer holds the Mutex (it was released already)');
    }
    Atomics.store(this.#i32, HOLD, 0);
    Atomics.store(this.#i32, STATE, 0);
    wake(this.#cell);
  }

  /**
   * Takes the lock without waiting, or returns `undefined` if it is taken.
   *
   * @example
   * ```ts
   * const g = lock.tryAcquire();
   * if (g) try { update(); } finally { g.release(); }
   * ```
   */
  tryAcquire(): LockGuard | undefined {
    const hold = newHold();
    return this.#attempt(hold, !this.#gate.blocks(0)) ? this.#guard(hold) : undefined;
  }

  /**
   * Waits for the lock without blocking the event loop.
   * Rejects with `TimeoutError` after `timeoutMs`, or `AbortError` when `signal` aborts.
   *
   * @example
   * ```ts
   * using _ = await lock.acquire({ timeoutMs: 1000 });
   * ```
   */
  async acquire(opts?: WaitOptions): Promise<LockGuard> {
    checkWaitOptions(opts, 'Mutex.acquire');
    const hold = newHold();
    await this.#lock(hold, opts, 'Mutex.acquire');
    return this.#guard(hold);
  }

  /**
   * Blocks the calling thread until it holds the lock. Meant for worker threads; on the main
   * thread it works but freezes the event loop while it waits.
   * Throws `DeadlockError` when this thread already holds the lock.
   *
   * @example
   * ```ts
   * const g = lock.acquireSync({ timeoutMs: 100 });
   * try { counter[0]++; } finally { g.release(); }
   * ```
   */
  acquireSync(opts?: SyncWaitOptions): LockGuard {
    checkWaitOptions(opts, 'Mutex.acquireSync');
    const hold = newHold();
    this.#lockSync(hold, opts, 'Mutex.acquireSync');
    return this.#guard(hold);
  }

  #lock(hold: number, opts: WaitOptions | undefined, where: string): Promise<void> | void {
    if (this.#attempt(hold, !this.#gate.blocks(0))) return;
    return waitUntil(
      this.#cell,
      (allowed): true | NotYet => (this.#attempt(hold, allowed) ? true : NOT_YET),
      opts,
      where,
    ).then(() => undefined);
  }

  #lockSync(hold: number, opts: SyncWaitOptions | undefined, where: string): void {
    waitUntilSync(
      this.#cell,
      (allowed): true | NotYet => {
        if (this.#attempt(hold, allowed)) return true;
        if (Atomics.load(this.#i32, STATE) === THREAD_TOKEN) {
          throw new DeadlockError(
            `${where}: this thread already holds the Mutex and it is not reentrant; ` +
              'blocking would never end',
          );
        }
        return NOT_YET;
      },
      opts,
      where,
    );
  }

  /**
   * Releases the lock held by this thread (whichever of its holds it is — prefer the guard).
   * Throws `LockNotOwnedError` when the lock is free or another thread holds it.
   */
  release(): void {
    const holder = Atomics.load(this.#i32, STATE);
    if (holder === 0) throw new LockNotOwnedError('Mutex.release: the Mutex is not locked');
    if (holder !== THREAD_TOKEN) {
      throw new LockNotOwnedError('Mutex.release: the Mutex is held by another thread');
    }
    this.#unlockHold(Atomics.load(this.#i32, HOLD));
  }

  /**
   * Runs `fn` holding the lock and releases it after, also when `fn` throws or rejects.
   *
   * @example
   * ```ts
   * const n = await lock.runExclusive(async () => ++(await load()).count);
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
   * lock.runExclusiveSync(() => { shared[0] = shared[0] + 1; });
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

  /** @internal What a Condition needs of the lock it waits on. */
  [lockInternals](): LockInternals<number> {
    return {
      held: (where) => {
        if (Atomics.load(this.#i32, STATE) !== THREAD_TOKEN) {
          throw new LockNotOwnedError(`${where}: the Condition's Mutex must be held by the caller`);
        }
        return Atomics.load(this.#i32, HOLD);
      },
      unlock: (hold) => this.#unlockHold(hold),
      relock: async (hold) => {
        await this.#lock(hold, undefined, 'Condition.wait');
      },
      relockSync: (hold) => {
        waitUntilSync(
          this.#cell,
          (allowed): true | NotYet => (this.#attempt(hold, allowed) ? true : NOT_YET),
          undefined,
          'Condition.waitSync',
        );
      },
    };
  }
}

registerShareable('Mutex', (state) => Mutex.fromShared(state));
