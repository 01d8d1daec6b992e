/**
 * SideLock: the short internal lock of a shared structure (a ThreadQueue's producer or consumer
 * side), made to survive the death of the thread that holds it.
 *
 * A worker can die anywhere — `worker.terminate()` (threadloop itself ends a worker whose task
 * ignored its abort), running out of memory — also in the middle of a `put`, holding this lock.
 * JavaScript gives no robust futex and no way to ask, from a blocked thread, whether another
 * thread still lives, so the lock word holds the holder's owner token (owner.ts) and a count of
 * holds, and a waiter that has watched *the same hold* last for LEASE_MS of its own waiting takes
 * the lock over and calls `recover`, which finishes or forgets the dead holder's operation (see
 * the commit records in shared-queue.ts). The structure's operations never wait, allocate much or
 * call out while holding the lock — they copy a few bytes and publish an index — so a live holder
 * keeps it for microseconds, not for the half second it takes to be presumed dead.
 *
 * The lease counts the waiter's own observations, each worth at most two sleep slices: a process
 * that was suspended (a laptop's sleep, SIGSTOP) for longer than the lease resumes with a waiter
 * that still has to watch for the whole lease, during which the live holder runs and lets go.
 */
import { THREAD_TOKEN } from './owner.js';

/** Words a SideLock needs, from its base index. */
export const SIDE_LOCK_WORDS = 3;
const OWNER = 0; // 0 = free, else the holder's owner token
const HOLDS = 1; // holds so far (wrapping): tells a new hold by the same thread from a stuck one
const SLEEPERS = 2; // waiters asleep on OWNER: unlock notifies only when there are some

const SPINS = 100;
const SLICE_MS = 10;
/** How long a waiter watches one hold that does not end before it presumes the holder dead. */
export const LEASE_MS = 500;

/**
 * The lock over `SIDE_LOCK_WORDS` words of `i32` from `base`.
 *
 * @example
 * ```ts
 * const lock = new SideLock(i32, P_LOCK, () => finishDeadPut());
 * lock.lock();
 * try { copyItemIn(); } finally { lock.unlock(); }
 * ```
 */
export class SideLock {
  readonly #i32: Int32Array;
  readonly #at: number;
  readonly #recover: () => void;

  /** @param recover runs holding the lock, after taking it over from a holder presumed dead. */
  constructor(i32: Int32Array, base: number, recover: () => void) {
    this.#i32 = i32;
    this.#at = base;
    this.#recover = recover;
  }

  lock(): void {
    if (Atomics.compareExchange(this.#i32, this.#at + OWNER, 0, THREAD_TOKEN) === 0) {
      this.#took();
      return;
    }
    this.#contended();
  }

  unlock(): void {
    const i32 = this.#i32;
    Atomics.store(i32, this.#at + OWNER, 0);
    if (Atomics.load(i32, this.#at + SLEEPERS) !== 0) Atomics.notify(i32, this.#at + OWNER, 1);
  }

  /**
   * Tells waiters that the holder is alive: a hold that renews itself is never taken over. For a
   * holder that has long work to do under the lock (compacting a whole arena).
   */
  renew(): void {
    this.#took();
  }

  #took(): void {
    // Only the holder writes HOLDS; waiters read it with Atomics.load.
    const i = this.#at + HOLDS;
    this.#i32[i] = ((this.#i32[i] as number) + 1) | 0;
  }

  #contended(): void {
    const i32 = this.#i32;
    const at = this.#at + OWNER;
    for (let i = 0; i < SPINS; i++) {
      if (Atomics.load(i32, at) === 0 && Atomics.compareExchange(i32, at, 0, THREAD_TOKEN) === 0) {
        this.#took();
        return;
      }
    }
    let watched = 0;
    let watchedHolds = 0;
    let watchedFor = 0;
    let last = 0;
    for (;;) {
      const owner = Atomics.load(i32, at);
      if (owner === 0) {
        if (Atomics.compareExchange(i32, at, 0, THREAD_TOKEN) === 0) {
          this.#took();
          return;
        }
        continue;
      }
      const holds = Atomics.load(i32, this.#at + HOLDS);
      const t = performance.now();
      if (owner !== watched || holds !== watchedHolds) {
        watched = owner;
        watchedHolds = holds;
        watchedFor = 0;
      } else {
        watchedFor += Math.min(t - last, 2 * SLICE_MS);
        if (watchedFor >= LEASE_MS && Atomics.compareExchange(i32, at, owner, THREAD_TOKEN) === owner) {
          this.#took();
          this.#recover();
          return;
        }
      }
      last = t;
      Atomics.add(i32, this.#at + SLEEPERS, 1);
      Atomics.wait(i32, at, owner, SLICE_MS);
      Atomics.sub(i32, this.#at + SLEEPERS, 1);
    }
  }
}
