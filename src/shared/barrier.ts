/**
 * Barrier: `parties` threads meet, then all go on — the threadloop `threading.Barrier`.
 *
 * Layout (Int32 words): STATE, PARTIES, OUTCOMES. STATE is also the wake word:
 *   bits 0-15   arrivals in the current round (`parties` while the last arrival runs the action,
 *               which holds the next round off until it has run)
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
import { refuseUnknownOptions } from '../wire/checks.js';
import { BrokenBarrierError, TaskNotFoundError } from '../wire/errors.js';
import type { TaskRef } from '../wire/protocol.js';
import {
  getTaskHooks,
  noteShareableCreated,
  registerShareable,
  type ResolvedTask,
  Revival,
  revive,
  type Shareable,
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

const BARRIER_OPTIONS = new Set(['action', 'timeoutMs']);
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

/** What crosses threads: the counters, and the options every copy of the barrier applies. */
interface State {
  buffer: SharedArrayBuffer;
  action: TaskRef | undefined;
  timeoutMs: number | undefined;
}

function isState(v: unknown): v is State {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as State).buffer instanceof SharedArrayBuffer &&
    (v as State).buffer.byteLength === WORDS * 4
  );
}

/** Options of `new Barrier()`. */
export interface BarrierOptions {
  /**
   * Runs once per round, when the barrier trips, on the thread of the last party to arrive,
   * before any party goes on: a function (self-contained, as an inline task is) or a task, as
   * anywhere a function crosses threads. If it throws, the barrier breaks: that party gets the
   * error, the others `BrokenBarrierError`. It runs synchronously; in `wait()` a promise it
   * returns is awaited, in `waitSync()` it is an error.
   */
  action?: (() => unknown) | { readonly ref: object } | undefined;
  /** The `timeoutMs` of every wait that does not give its own. Default: none. */
  timeoutMs?: number | undefined;
}


/** Returned by an arrival that trips the round and has the action to run. */
const TRIP: unique symbol = Symbol('threadloop.barrierTrip');
type Trip = typeof TRIP;

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
    private readonly hasAction: boolean,
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

  attempt(): number | NotYet | Trip {
    const { i32 } = this;
    if (this.round !== -1) return this.outcome(Atomics.load(i32, STATE));
    for (;;) {
      const s = Atomics.load(i32, STATE);
      if ((s & BROKEN) !== 0) throw new BrokenBarrierError('the Barrier is broken');
      const count = s & COUNT;
      if (count >= this.parties) return NOT_YET; // tripping: wait for the next round
      if (count + 1 === this.parties) {
        if (this.hasAction) {
          // Count this arrival without ending the round: that waits for the action.
          if (Atomics.compareExchange(i32, STATE, s, s + 1) !== s) continue;
          this.round = roundOf(s);
          this.index = count;
          return TRIP;
        }
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

  /** The action ran: end the round. False if it was reset or broken meanwhile. */
  finishTrip(): boolean {
    for (;;) {
      const s = Atomics.load(this.i32, STATE);
      if (roundOf(s) !== this.round || (s & BROKEN) !== 0) return false;
      if (endRound(this.i32, s, false)) return true;
    }
  }

  /** The action failed: break the round (unless it was already ended or broken). */
  breakRound(): void {
    for (;;) {
      const s = Atomics.load(this.i32, STATE);
      if (roundOf(s) !== this.round || (s & BROKEN) !== 0) return;
      if (Atomics.compareExchange(this.i32, STATE, s, s | BROKEN) === s) break;
    }
    Atomics.notify(this.i32, STATE);
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
 * `action` (a function or task) runs once per round on the thread that trips it; `timeoutMs`
 * bounds every wait that gives none.
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
  readonly #actionRef: TaskRef | undefined;
  /** The action on this thread: a function, or a promise of one while its module loads. */
  #action: ResolvedTask | Promise<ResolvedTask> | undefined;
  readonly #timeoutMs: number | undefined;

  /**
   * @param parties how many waits trip the barrier, an integer from 1 to 65534.
   * @param options `action` to run when it trips, a default `timeoutMs` for every wait.
   */
  constructor(parties: number, options?: BarrierOptions);
  constructor(parties: number | Revival<State>, options: BarrierOptions = {}) {
    const revived = parties instanceof Revival ? parties.state : undefined;
    if (!(parties instanceof Revival)) {
      if (!Number.isInteger(parties) || parties < 1 || parties > MAX_PARTIES) {
        throw new RangeError(`Barrier: parties must be an integer from 1 to ${MAX_PARTIES} (got ${String(parties)})`);
      }
      if (typeof options !== 'object' || options === null) throw new TypeError('Barrier: options must be an object');
      refuseUnknownOptions('Barrier', options, BARRIER_OPTIONS);
      checkWaitOptions({ timeoutMs: options.timeoutMs }, 'Barrier');
    }
    this.#sab = revived?.buffer ?? new SharedArrayBuffer(WORDS * 4);
    this.#i32 = new Int32Array(this.#sab);
    if (!(parties instanceof Revival)) this.#i32[PARTIES] = parties;
    this.#timeoutMs = revived === undefined ? options.timeoutMs : revived.timeoutMs;
    this.#actionRef =
      revived === undefined
        ? options.action === undefined
          ? undefined
          : getTaskHooks('Barrier({ action })').toRef(options.action)
        : revived.action;
    if (this.#actionRef !== undefined) this.#loadAction(this.#actionRef);
    this.#cell = { i32: this.#i32, wake: STATE };
    noteShareableCreated();
  }

  /** Resolves the action on this thread now, so a module task is loaded before a trip needs it. */
  #loadAction(ref: TaskRef): void {
    let action: ResolvedTask | Promise<ResolvedTask>;
    try {
      action = getTaskHooks('Barrier({ action })').resolve(ref);
    } catch (err) {
      action = Promise.reject(err);
    }
    this.#action = action;
    if (action instanceof Promise) {
      action.then(
        (fn) => {
          this.#action = fn;
        },
        () => {}, // the trip that needs it reports the failure
      );
    }
  }

  /** Rebuilds a Barrier from `[toShared]().state` (the wire does this on arrival). */
  static fromShared(state: unknown): Barrier {
    if (!isState(state)) throw new TypeError('Barrier.fromShared: expected the state of a Barrier');
    return revive(Barrier, state);
  }

  [toShared](): SharedDescriptor {
    return {
      kind: 'Barrier',
      state: { buffer: this.#sab, action: this.#actionRef, timeoutMs: this.#timeoutMs } satisfies State,
    };
  }

  #options<O extends SyncWaitOptions>(opts: O | undefined): O | undefined {
    if (this.#timeoutMs === undefined || opts?.timeoutMs !== undefined) return opts;
    return { ...opts, timeoutMs: this.#timeoutMs } as O;
  }

  /** Runs the action of a round this pass tripped, then ends the round (or breaks it). */
  async #trip(pass: Pass): Promise<number> {
    try {
      let action = this.#action as ResolvedTask | Promise<ResolvedTask>;
      if (action instanceof Promise) action = await action;
      await action();
    } catch (err) {
      pass.breakRound();
      throw err;
    }
    return this.#tripped(pass);
  }

  #tripSync(pass: Pass): number {
    try {
      const action = this.#action;
      if (action instanceof Promise) {
        throw new TaskNotFoundError(
          "Barrier.waitSync: the barrier's action is a module task whose module has not loaded on this thread " +
            'yet; use wait() there, or an inline function as the action',
        );
      }
      const out = (action as ResolvedTask)();
      if (typeof (out as PromiseLike<unknown> | undefined)?.then === 'function') {
        throw new TypeError("Barrier.waitSync: the barrier's action returned a promise; waitSync can only run a synchronous action");
      }
    } catch (err) {
      pass.breakRound();
      throw err;
    }
    return this.#tripped(pass);
  }

  #tripped(pass: Pass): number {
    if (!pass.finishTrip()) throw new BrokenBarrierError('the Barrier was reset or broken while its action ran');
    return pass.index;
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
    const pass = new Pass(this.#i32, this.parties, this.#actionRef !== undefined);
    let r = pass.attempt();
    if (r === NOT_YET) {
      try {
        r = await waitUntil(this.#cell, () => pass.attempt(), this.#options(opts), 'Barrier.wait');
      } catch (err) {
        if (err instanceof BrokenBarrierError) throw err;
        return pass.giveUp(err);
      }
    }
    return r === TRIP ? this.#trip(pass) : r;
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
    const pass = new Pass(this.#i32, this.parties, this.#actionRef !== undefined);
    let r: number | Trip;
    try {
      r = waitUntilSync(this.#cell, () => pass.attempt(), this.#options(opts), 'Barrier.waitSync');
    } catch (err) {
      if (err instanceof BrokenBarrierError) throw err;
      return pass.giveUp(err);
    }
    return r === TRIP ? this.#tripSync(pass) : r;
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
