/**
 * Barrier: `parties` threads meet, then all go on — the threadloop `threading.Barrier`.
 *
 * Layout (Int32 words): STATE = phase << 16 | count, and PARTIES. Same phases as CPython:
 * FILLING (arrivals counted), DRAINING (tripped: waiters leave with success), RESETTING (reset
 * while waiters were inside: they leave with BrokenBarrierError), BROKEN (until `reset()`).
 * A new round starts only when the last waiter of the previous one has left, so a waiter never
 * has to guess which round a state change belongs to. STATE is also the wake word.
 */
import { BrokenBarrierError } from '../wire/errors.js';
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

const STATE = 0;
const PARTIES = 1;
const WORDS = 2;
const MAX_PARTIES = 0xffff;

const FILLING = 0;
const DRAINING = 1;
const RESETTING = 2;
const BROKEN = 3;

const phaseOf = (s: number): number => s >>> 16;
const countOf = (s: number): number => s & 0xffff;
const make = (phase: number, count: number): number => (phase << 16) | count;

let reviving: SharedArrayBuffer | undefined;

/** One pass through the barrier: enter, wait for the trip, leave. */
class Pass {
  entered = false;
  index = -1;
  constructor(
    private readonly i32: Int32Array,
    private readonly parties: number,
  ) {}

  attempt(): number | NotYet {
    const { i32 } = this;
    if (!this.entered) {
      for (;;) {
        const s = Atomics.load(i32, STATE);
        const phase = phaseOf(s);
        if (phase === BROKEN) throw new BrokenBarrierError('the Barrier is broken');
        if (phase !== FILLING) return NOT_YET; // the previous round is still leaving
        const count = countOf(s);
        const trips = count + 1 === this.parties;
        if (Atomics.compareExchange(i32, STATE, s, make(trips ? DRAINING : FILLING, count + 1)) !== s) {
          continue;
        }
        this.entered = true;
        this.index = count;
        if (trips) {
          Atomics.notify(i32, STATE);
          this.leave();
          return this.index;
        }
        break;
      }
    }
    const phase = phaseOf(Atomics.load(i32, STATE));
    if (phase === FILLING) return NOT_YET;
    this.leave();
    if (phase === DRAINING) return this.index;
    throw new BrokenBarrierError('the Barrier was broken or reset while waiting');
  }

  /** Gave up (timeout/abort): break the barrier unless it tripped meanwhile. */
  giveUp(err: unknown): number {
    if (!this.entered) throw err;
    const { i32 } = this;
    for (;;) {
      const s = Atomics.load(i32, STATE);
      const phase = phaseOf(s);
      if (phase === DRAINING) {
        this.leave();
        return this.index;
      }
      if (phase === FILLING) {
        if (Atomics.compareExchange(i32, STATE, s, make(BROKEN, countOf(s))) !== s) continue;
        Atomics.notify(i32, STATE);
      }
      this.leave();
      throw err;
    }
  }

  private leave(): void {
    const { i32 } = this;
    for (;;) {
      const s = Atomics.load(i32, STATE);
      const phase = phaseOf(s);
      const count = countOf(s) - 1;
      const last = count === 0 && (phase === DRAINING || phase === RESETTING);
      const next = last ? make(FILLING, 0) : make(phase, count);
      if (Atomics.compareExchange(i32, STATE, s, next) !== s) continue;
      if (last) Atomics.notify(i32, STATE); // threads waiting to enter the next round
      return;
    }
  }
}

/**
 * Makes `parties` threads (or async callers) wait for each other: each `wait` returns once all
 * have called it, with a distinct arrival index from 0 to parties - 1. The barrier then resets
 * itself for the next round. A wait that times out or is aborted breaks the barrier: the others
 * get `BrokenBarrierError` (the one that gave up gets its TimeoutError/AbortError), as does every
 * later wait until `reset()`.
 *
 * @example
 * ```ts
 * const start = new Barrier(5);
 * const futs = [1, 2, 3, 4].map(() => ex.submit((b) => { b.waitSync(); return run(); }, start));
 * await start.wait(); // the fifth party: everyone starts together
 * ```
 */
export class Barrier implements Shareable {
  readonly #sab: SharedArrayBuffer;
  readonly #i32: Int32Array;
  readonly #cell: WaitCell;

  /** @param parties how many waits trip the barrier, an integer from 1 to 65535. */
  constructor(parties: number) {
    const sab = reviving;
    reviving = undefined;
    if (sab === undefined && (!Number.isInteger(parties) || parties < 1 || parties > MAX_PARTIES)) {
      throw new RangeError(
        `Barrier: parties must be an integer from 1 to ${MAX_PARTIES} (got ${String(parties)})`,
      );
    }
    this.#sab = sab ?? new SharedArrayBuffer(WORDS * 4);
    this.#i32 = new Int32Array(this.#sab);
    if (sab === undefined) this.#i32[PARTIES] = parties;
    this.#cell = { i32: this.#i32, wake: STATE };
    noteShareableCreated();
  }

  /** Rebuilds a Barrier from `[toShared]().state` (the wire does this on arrival). */
  static fromShared(state: unknown): Barrier {
    reviving = sharedBuffer('Barrier', state, WORDS * 4);
    return new Barrier(0);
  }

  [toShared](): SharedDescriptor {
    return { kind: 'Barrier', state: this.#sab };
  }

  /** How many waits trip the barrier. */
  get parties(): number {
    return this.#i32[PARTIES] as number;
  }

  /** How many are waiting in the current round (a snapshot). */
  get nWaiting(): number {
    const s = Atomics.load(this.#i32, STATE);
    return phaseOf(s) === FILLING ? countOf(s) : 0;
  }

  /** True once a wait timed out or was aborted, or `abort()` was called, until `reset()`. */
  get broken(): boolean {
    return phaseOf(Atomics.load(this.#i32, STATE)) === BROKEN;
  }

  /**
   * Waits, without blocking the event loop, until `parties` waits have arrived; resolves with this
   * caller's arrival index.
   *
   * @example
   * ```ts
   * if ((await barrier.wait({ timeoutMs: 5000 })) === 0) console.log('first to arrive');
   * ```
   */
  async wait(opts?: WaitOptions): Promise<number> {
    checkWaitOptions(opts, 'Barrier.wait');
    const pass = new Pass(this.#i32, this.parties);
    const r = pass.attempt();
    if (r !== NOT_YET) return r;
    try {
      return await waitUntil(this.#cell, () => pass.attempt(), opts, 'Barrier.wait');
    } catch (err) {
      if (err instanceof BrokenBarrierError) throw err;
      return pass.giveUp(err);
    }
  }

  /**
   * Blocking `wait`. Meant for worker threads; on the main thread it works but freezes the event
   * loop while it waits.
   *
   * @example
   * ```ts
   * for (let step = 0; step < n; step++) { compute(step); barrier.waitSync(); }
   * ```
   */
  waitSync(opts?: SyncWaitOptions): number {
    checkWaitOptions(opts, 'Barrier.waitSync');
    const pass = new Pass(this.#i32, this.parties);
    try {
      return waitUntilSync(this.#cell, () => pass.attempt(), opts, 'Barrier.waitSync');
    } catch (err) {
      if (err instanceof BrokenBarrierError) throw err;
      return pass.giveUp(err);
    }
  }

  /**
   * Returns the barrier to its empty, unbroken state. Threads waiting in it get
   * `BrokenBarrierError`; the next round starts once they have left.
   *
   * @example
   * ```ts
   * if (barrier.broken) barrier.reset();
   * ```
   */
  reset(): void {
    for (;;) {
      const s = Atomics.load(this.#i32, STATE);
      const phase = phaseOf(s);
      const count = countOf(s);
      let next: number;
      if (count === 0) next = make(FILLING, 0);
      else if (phase === FILLING || phase === BROKEN) next = make(RESETTING, count);
      else return; // draining or already resetting: the round ends by itself
      if (Atomics.compareExchange(this.#i32, STATE, s, next) === s) break;
    }
    Atomics.notify(this.#i32, STATE);
  }

  /**
   * Breaks the barrier: current and later waits fail with `BrokenBarrierError` until `reset()`.
   * Use it to release everyone when one party cannot come.
   *
   * @example
   * ```ts
   * try { prepare(); } catch (e) { barrier.abort(); throw e; }
   * ```
   */
  abort(): void {
    for (;;) {
      const s = Atomics.load(this.#i32, STATE);
      if (phaseOf(s) === BROKEN) return;
      if (Atomics.compareExchange(this.#i32, STATE, s, make(BROKEN, countOf(s))) === s) break;
    }
    Atomics.notify(this.#i32, STATE);
  }
}

registerShareable('Barrier', (state) => Barrier.fromShared(state));
