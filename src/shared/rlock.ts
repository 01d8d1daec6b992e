/**
 * RLock: a reentrant lock in shared memory, the threadloop `threading.RLock`.
 *
 * Layout (Int32 words): OWNER (0 = free, else the holder thread's owner token, see owner.ts),
 * DEPTH (how many times the owner holds it), SESSION (which uninterrupted ownership this is, so
 * a guard from an earlier one cannot release a later one), WAKE, WAITERS, then the fairness gate.
 * Only the owner writes DEPTH and SESSION.
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
import { LockNotOwnedError } from './errors.js';
import { HoldGuard, lockInternals, newHold, type LockGuard, type LockInternals } from './mutex.js';
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

const OWNER = 0;
const DEPTH = 1;
const SESSION = 2;
const WAKE = 3;
const WAITERS = 4;
const GATE = 5;
const WORDS = GATE + GATE_WORDS;
const MAX_DEPTH = 0x7fffffff;

/** What a Condition saves of an RLock while it waits: the ownership and its depth. */
interface Saved {
  session: number;
  depth: number;
}

/**
 * A lock that the thread holding it may take again: it is free once released as many times as it
 * was taken. Ownership is per thread — as everywhere in threadloop, two async functions on one
 * thread are the same owner, so an RLock does not keep them apart (use a `Mutex` for that).
 * Releasing it from a thread that does not hold it throws `LockNotOwnedError`. No waiter starves.
 *
 * @example
 * ```ts
 * const lock = new RLock();
 * function transfer(a, b, n) {
 *   lock.runExclusiveSync(() => { withdraw(a, n); deposit(b, n); }); // each takes the lock again
 * }
 * function withdraw(a, n) { lock.runExclusiveSync(() => { balances[a] -= n; }); }
 * ```
 */
export class RLock implements Shareable {
  readonly #sab: SharedArrayBuffer;
  readonly #i32: Int32Array;
  readonly #gate: Gate;
  readonly #cell: WaitCell;

  constructor();
  constructor(revival?: Revival) {
    this.#sab = revival instanceof Revival ? revival.state : new SharedArrayBuffer(WORDS * 4);
    this.#i32 = new Int32Array(this.#sab);
    this.#gate = new Gate(this.#i32, GATE);
    this.#cell = { i32: this.#i32, wake: WAKE, waiters: WAITERS, gate: this.#gate };
    noteShareableCreated();
  }

  /** Rebuilds an RLock from `[toShared]().state` (the wire does this on arrival). */
  static fromShared(state: unknown): RLock {
    return revive(RLock, sharedBuffer('RLock', state, WORDS * 4));
  }

  [toShared](): SharedDescriptor {
    return { kind: 'RLock', state: this.#sab };
  }

  /** True while some thread holds the lock (a snapshot). */
  get locked(): boolean {
    return Atomics.load(this.#i32, OWNER) !== 0;
  }

  /** How many times this thread holds the lock right now: 0 when it does not hold it. */
  get depth(): number {
    return Atomics.load(this.#i32, OWNER) === THREAD_TOKEN ? (this.#i32[DEPTH] as number) : 0;
  }

  /**
   * Takes the lock, or once more if this thread holds it, and says which hold that is; NOT_YET
   * while another thread holds it.
   */
  #attempt(allowed: boolean): Saved | NotYet {
    const i32 = this.#i32;
    if (Atomics.load(i32, OWNER) === THREAD_TOKEN) {
      const depth = i32[DEPTH] as number;
      if (depth === MAX_DEPTH) throw new RangeError('RLock: taken too many times by one thread');
      i32[DEPTH] = depth + 1;
      return { session: i32[SESSION] as number, depth: depth + 1 };
    }
    if (!allowed || Atomics.compareExchange(i32, OWNER, 0, THREAD_TOKEN) !== 0) return NOT_YET;
    const session = newHold();
    i32[SESSION] = session;
    i32[DEPTH] = 1;
    return { session, depth: 1 };
  }

  #guard({ session, depth }: Saved): LockGuard {
    return new HoldGuard(
      () => {
        if (!this.#holds(session, depth)) {
          throw new LockNotOwnedError('this guard no longer holds the RLock (it was released already)');
        }
        this.#releaseOnce();
      },
      () => this.#holds(session, depth),
    );
  }

  #holds(session: number, depth: number): boolean {
    const i32 = this.#i32;
    return Atomics.load(i32, OWNER) === THREAD_TOKEN && i32[SESSION] === session && (i32[DEPTH] as number) >= depth;
  }

  #releaseOnce(): void {
    const i32 = this.#i32;
    const depth = (i32[DEPTH] as number) - 1;
    i32[DEPTH] = depth;
    if (depth > 0) return;
    i32[SESSION] = 0;
    Atomics.store(i32, OWNER, 0);
    wake(this.#cell);
  }

  /**
   * Takes the lock without waiting (again, if this thread holds it), or returns `undefined`.
   *
   * @example
   * ```ts
   * const g = lock.tryAcquire();
   * if (g) try { update(); } finally { g.release(); }
   * ```
   */
  tryAcquire(): LockGuard | undefined {
    const hold = this.#attempt(!this.#gate.blocks(0));
    return hold === NOT_YET ? undefined : this.#guard(hold);
  }

  /**
   * Takes the lock (again, at once, if this thread holds it), waiting without blocking the
   * event loop. Rejects with `TimeoutError` after `timeoutMs`, or `AbortError` when `signal`
   * aborts.
   *
   * @example
   * ```ts
   * using _ = await lock.acquire({ timeoutMs: 1000 });
   * ```
   */
  async acquire(opts?: WaitOptions): Promise<LockGuard> {
    checkWaitOptions(opts, 'RLock.acquire');
    let hold = this.#attempt(!this.#gate.blocks(0));
    if (hold === NOT_YET) hold = await waitUntil(this.#cell, (allowed) => this.#attempt(allowed), opts, 'RLock.acquire');
    return this.#guard(hold);
  }

  /**
   * Blocks the calling thread until it holds the lock (at once if it holds it already). Meant
   * for worker threads; on the main thread it works but freezes the event loop while it waits.
   *
   * @example
   * ```ts
   * const g = lock.acquireSync({ timeoutMs: 100 });
   * try { nested(); } finally { g.release(); }
   * ```
   */
  acquireSync(opts?: SyncWaitOptions): LockGuard {
    checkWaitOptions(opts, 'RLock.acquireSync');
    return this.#guard(waitUntilSync(this.#cell, (allowed) => this.#attempt(allowed), opts, 'RLock.acquireSync'));
  }

  /**
   * Releases one level of this thread's hold; the lock is free once every acquire was released.
   * Throws `LockNotOwnedError` when this thread does not hold it.
   *
   * @example
   * ```ts
   * lock.acquireSync(); lock.acquireSync();
   * lock.release(); lock.release(); // free now
   * ```
   */
  release(): void {
    const owner = Atomics.load(this.#i32, OWNER);
    if (owner === 0) throw new LockNotOwnedError('RLock.release: the RLock is not locked');
    if (owner !== THREAD_TOKEN) throw new LockNotOwnedError('RLock.release: the RLock is held by another thread');
    this.#releaseOnce();
  }

  /**
   * Runs `fn` holding the lock and releases it after, also when `fn` throws or rejects.
   *
   * @example
   * ```ts
   * await lock.runExclusive(async () => { await save(await load()); });
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
   * lock.runExclusiveSync(() => lock.runExclusiveSync(() => 'nested is fine'));
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
  [lockInternals](): LockInternals<Saved> {
    const i32 = this.#i32;
    const restore = (saved: Saved) => (allowed: boolean): true | NotYet => {
      if (!allowed || Atomics.compareExchange(i32, OWNER, 0, THREAD_TOKEN) !== 0) return NOT_YET;
      i32[SESSION] = saved.session;
      i32[DEPTH] = saved.depth;
      return true;
    };
    return {
      held: (where) => {
        if (Atomics.load(i32, OWNER) !== THREAD_TOKEN) {
          throw new LockNotOwnedError(`${where}: the Condition's lock must be held by the caller`);
        }
        return { session: i32[SESSION] as number, depth: i32[DEPTH] as number };
      },
      unlock: () => {
        // A Condition's wait lets go of every level at once, and gets them all back after.
        i32[DEPTH] = 1;
        this.#releaseOnce();
      },
      relock: async (saved) => {
        await waitUntil(this.#cell, restore(saved), undefined, 'Condition.wait');
      },
      relockSync: (saved) => {
        waitUntilSync(this.#cell, restore(saved), undefined, 'Condition.waitSync');
      },
    };
  }
}

registerShareable('RLock', (state) => RLock.fromShared(state));
