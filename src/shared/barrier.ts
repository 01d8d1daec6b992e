/**
 * Barrier: `parties` threads meet, then all go on — the threadloop `threading.Barrier`.
 *
 * Layout (Int32 words): STATE, PARTIES, OUTCOMES. STATE is also the wake word:
 *   bits 0-15   arrivals in the current round (`parties` while the last arrival runs the action)
 *   bit 16      BROKEN: the round was broken (a wait timed out or was aborted, `abort()`, an
 *               action threw); every wait fails until `reset()`
 *   bit 17      PREV_BROKEN: the round before this one ended broken (by `reset()`), not tripped
 *   bits 18-31  the round number (wrapping)
 * A round ends by moving to the next round number: the last arrival trips it, or `reset()`
 * ends a broken or waiting round. A waiter knows which round it entered, so it needs nothing
 * from the others to tell how that round ended: from PREV_BROKEN if it is the one just before,
 * or else from OUTCOMES, a bitmap over the last 32 rounds, which whoever ends a round fills in
 * for the round before it (from PREV_BROKEN, so all who try write the same bit). Unlike a
 * barrier that lets the next round in only once every waiter of the last one has left, a waiter
 * that dies (a terminated worker) cannot hold the next round up; it just counts as arrived.
 */
import { BrokenBarrierError } from '../core/errors.js';
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
const OUTCOMES = 2;
const WORDS = 3;
const MAX_PARTIES = 0xfffe;

const COUNT = 0xffff;
const BROKEN = 1 << 16;
const PREV_BROKEN = 1 << 17;
const ROUND_SHIFT = 18;

const roundOf = (s: number): number => s >>> ROUND_SHIFT;
/** The first state of the round after the one in `s`. */
const nextRound = (s: number, prevBroken: boolean): number =>
  ((((s >>> ROUND_SHIFT) + 1) << ROUND_SHIFT) | (prevBroken ? PREV_BROKEN : 0)) | 0;

let reviving: SharedArrayBuffer | undefined;

/** Moves `i32` from state `s` to the next round; false if the state changed meanwhile. */
function endRound(i32: Int32Array, s: number, broken: boolean): boolean {
  // Record how the round before this one ended, for waiters of it that have not looked yet.
  const before = (roundOf(s) - 1) & 31;
  if ((s & PREV_BROKEN) !== 0) Atomics.or(i32, OUTCOMES, 1 << before);
  else Atomics.and(i32, OUTCOMES, ~(1 << before));
  if (Atomics.compareExchange(i32, STATE, s, nextRound(s, broken)) !== s) return false;
  Atomics.notify(i32, STATE);
  return true;
}

/** One pass through the barrier: enter a round, wait for it to end. */
class Pass {
  round = -1;
  index = -1;
  constructor(
    private readonly i32: Int32Array,
    private readonly parties: number,
  ) {}

  /** Whether the round this pass entered has ended by tripping; throws if it ended broken. */
  private outcome(s: number): number | NotYet {
    const round = roundOf(s);
    if (round === this.round) {
      if ((s & BROKEN) !== 0) throw new BrokenBarrierError('the Barrier was broken while waiting');
      return NOT_YET;
    }
    const broken =
      ((round - this.round) & 0x3fff) === 1
        ? (s & PREV_BROKEN) !== 0
        : (Atomics.load(this.i32, OUTCOMES) & (1 << (this.round & 31))) !== 0;
    if (broken) throw new BrokenBarrierError('the Barrier was reset while waiting');
    return this.index;
  }

  attempt(): number | NotYet {
    const { i32 } = this;
    if (this.round !== -1) return this.outcome(Atomics.load(i32, STATE));
    for (;;) {
      const s = Atomics.load(i32, STATE);
      if ((s & BROKEN) !== 0) throw new BrokenBarrierError('the Barrier is broken');
      const count = s & COUNT;
      if (count >= this.parties) return NOT_YET; // tripping: wait for the next round
      if (count + 1 === this.parties) {
        if (!endRound(i32, s, false)) continue;
        this.round = roundOf(s);
        this.index = count;
        return count;
      }
      if (Atomics.compareExchange(i32, STATE, s, s + 1) !== s) continue;
      this.round = roundOf(s);
      this.index = count;
      return NOT_YET;
    }
  }

  /** Gave up (timeout/abort): break the round unless it ended meanwhile. */
  giveUp(err: unknown): number {
    if (this.round === -1) throw err;
    const { i32 } = this;
    for (;;) {
      const s = Atomics.load(i32, STATE);
      if (roundOf(s) !== this.round) return this.outcome(s) as number; // it ended meanwhile
      if ((s & BROKEN) !== 0) throw err;
      if (Atomics.compareExchange(i32, STATE, s, s | BROKEN) !== s) continue;
      Atomics.notify(i32, STATE);
      throw err;
    }
  }
}

/**
 * Makes `parties` threads (or async callers) wait for each other: each `wait` returns once all
 * have called it, with a distinct arrival index from 0 to parties - 1. The barrier then resets
 * itself for the next round. A thread that dies while waiting (a terminated worker) counted as
 * arrived; one that dies before it arrives never does — give waits a `timeoutMs` where that can
 * happen. A wait that times out or is aborted breaks the barrier: the others
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

  /** @param parties how many waits trip the barrier, an integer from 1 to 65534. */
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
    return (s & BROKEN) !== 0 ? 0 : Math.min(s & COUNT, this.parties);
  }

  /** True once a wait timed out or was aborted, or `abort()` was called, until `reset()`. */
  get broken(): boolean {
    return (Atomics.load(this.#i32, STATE) & BROKEN) !== 0;
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
   * `BrokenBarrierError`; the next round starts at once.
   *
   * @example
   * ```ts
   * if (barrier.broken) barrier.reset();
   * ```
   */
  reset(): void {
    for (;;) {
      const s = Atomics.load(this.#i32, STATE);
      if ((s & (COUNT | BROKEN)) === 0) return; // empty and whole already
      if (endRound(this.#i32, s, true)) return;
    }
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
      if ((s & BROKEN) !== 0) return;
      if (Atomics.compareExchange(this.#i32, STATE, s, s | BROKEN) === s) break;
    }
    Atomics.notify(this.#i32, STATE);
  }
}

registerShareable('Barrier', (state) => Barrier.fromShared(state));
