/**
 * Mutex: a non-reentrant lock in shared memory, the threadloop `threading.Lock`.
 *
 * Layout (Int32 words): STATE (0 = free, else the holder's token), WAKE, WAITERS, then the
 * fairness gate. A token is `(thread + 1) << 16 | counter`: the high half says which thread holds
 * the lock (so `release()` from the wrong thread is caught), the low half tells apart successive
 * holds by the same thread (so a stale guard cannot release a newer hold).
 */
import { threadId } from 'node:worker_threads';
import { DeadlockError } from '../wire/errors.js';
import {
  noteShareableCreated,
  registerShareable,
  sharedBuffer,
  toShared,
  type Shareable,
  type SharedDescriptor,
} from '../wire/shareable.js';
import { LockNotOwnedError } from './errors.js';
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
const WAKE = 1;
const WAITERS = 2;
const GATE = 3;
const WORDS = GATE + GATE_WORDS;

const THREAD_BITS = ((threadId % 0x7fff) + 1) << 16;
const THREAD_MASK = ~0xffff;
let holdCounter = 0;

/** A fresh owner token for one hold of a lock by this thread. */
export function newToken(): number {
  holdCounter = (holdCounter + 1) & 0xffff;
  return THREAD_BITS | holdCounter;
}

/** True when `token` was issued by this thread. */
export function isThisThread(token: number): boolean {
  return token !== 0 && (token & THREAD_MASK) === THREAD_BITS;
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

/** The parts of a Mutex a Condition needs. Not public API. */
export interface MutexInternals {
  readonly i32: Int32Array;
  /** The token of this thread's current hold; throws LockNotOwnedError if it holds none. */
  heldToken(where: string): number;
  /** Releases a hold by token without any ownership message. */
  unlock(token: number): void;
  /** Re-takes the lock under a given token, ignoring timeouts: a Condition must get it back. */
  relock(token: number): Promise<void>;
  relockSync(token: number): void;
}

/** Symbol under which a Mutex exposes its internals to Condition. */
export const mutexInternals: unique symbol = Symbol('threadloop.mutexInternals');

let reviving: SharedArrayBuffer | undefined;

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

  constructor() {
    const sab = reviving ?? new SharedArrayBuffer(WORDS * 4);
    reviving = undefined;
    this.#sab = sab;
    this.#i32 = new Int32Array(sab);
    this.#gate = new Gate(this.#i32, GATE);
    this.#cell = { i32: this.#i32, wake: WAKE, waiters: WAITERS, gate: this.#gate };
    noteShareableCreated();
  }

  /** Rebuilds a Mutex from `[toShared]().state` (the wire does this on arrival). */
  static fromShared(state: unknown): Mutex {
    reviving = sharedBuffer('Mutex', state, WORDS * 4);
    return new Mutex();
  }

  [toShared](): SharedDescriptor {
    return { kind: 'Mutex', state: this.#sab };
  }

  /** True while some thread holds the lock. A snapshot: it may change right after. */
  get locked(): boolean {
    return Atomics.load(this.#i32, STATE) !== 0;
  }

  #guard(token: number): LockGuard {
    return new HoldGuard(
      () => this.#unlockToken(token),
      () => Atomics.load(this.#i32, STATE) === token,
    );
  }

  #attempt(token: number, allowed: boolean): boolean {
    return allowed && Atomics.compareExchange(this.#i32, STATE, 0, token) === 0;
  }

  #unlockToken(token: number): void {
    if (Atomics.compareExchange(this.#i32, STATE, token, 0) !== token) {
      throw new LockNotOwnedError('this guard no longer holds the Mutex (it was released already)');
    }
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
    const token = newToken();
    return this.#attempt(token, !this.#gate.blocks(0)) ? this.#guard(token) : undefined;
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
    const token = newToken();
    await this.#lock(token, opts, 'Mutex.acquire');
    return this.#guard(token);
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
    const token = newToken();
    this.#lockSync(token, opts, 'Mutex.acquireSync');
    return this.#guard(token);
  }

  #lock(token: number, opts: WaitOptions | undefined, where: string): Promise<void> | void {
    if (this.#attempt(token, !this.#gate.blocks(0))) return;
    return waitUntil(
      this.#cell,
      (allowed): true | NotYet => (this.#attempt(token, allowed) ? true : NOT_YET),
      opts,
      where,
    ).then(() => undefined);
  }

  #lockSync(token: number, opts: SyncWaitOptions | undefined, where: string): void {
    waitUntilSync(
      this.#cell,
      (allowed): true | NotYet => {
        if (this.#attempt(token, allowed)) return true;
        const holder = Atomics.load(this.#i32, STATE);
        if (isThisThread(holder)) {
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
    if (!isThisThread(holder)) {
      throw new LockNotOwnedError('Mutex.release: the Mutex is held by another thread');
    }
    this.#unlockToken(holder);
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

  [mutexInternals](): MutexInternals {
    return {
      i32: this.#i32,
      heldToken: (where) => {
        const holder = Atomics.load(this.#i32, STATE);
        if (!isThisThread(holder)) {
          throw new LockNotOwnedError(`${where}: the Condition's Mutex must be held by the caller`);
        }
        return holder;
      },
      unlock: (token) => this.#unlockToken(token),
      relock: async (token) => {
        await this.#lock(token, undefined, 'Condition.wait');
      },
      relockSync: (token) => {
        waitUntilSync(
          this.#cell,
          (allowed): true | NotYet => (this.#attempt(token, allowed) ? true : NOT_YET),
          undefined,
          'Condition.waitSync',
        );
      },
    };
  }
}

registerShareable('Mutex', (state) => Mutex.fromShared(state));
