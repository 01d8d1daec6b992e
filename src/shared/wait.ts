/**
 * The one waiting mechanism behind every shared primitive.
 *
 * A primitive keeps its state in an Int32Array over a SharedArrayBuffer and names one word of it
 * as its *wake word*. Whoever changes the state in a way that may let a waiter through bumps the
 * wake word and notifies it. A waiter reads the wake word *before* it tries, then sleeps only
 * while the word still holds what it read — so a change that lands between the failed try and the
 * sleep makes the sleep return at once. That is the whole no-lost-wake-up argument, and it is
 * written once here instead of once per primitive.
 *
 * The async side sleeps with `Atomics.waitAsync` (the event loop keeps running); the sync side
 * with `Atomics.wait` (the thread blocks).
 *
 * Fairness comes from a `Gate`: a waiter that has waited longer than `STARVE_MS` claims the gate,
 * and while it holds the gate nobody else may take the resource, so the resource goes to it next.
 * The oldest starving waiter wins the gate (by arrival ticket). The claim is a lease refreshed by
 * its holder, so a thread that dies while holding it (a terminated worker) blocks others for at
 * most `LEASE_MS`.
 */
import { checkTimeout } from '../wire/checks.js';
import { AbortError, TimeoutError } from '../wire/errors.js';
import { SpinBackoff } from '../wire/wake.js';

// `Atomics.waitAsync` is in Node >= 16 but only in TypeScript's ES2024 lib; type it here.
type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };
const atomicsWaitAsync = (
  Atomics as unknown as {
    waitAsync(i32: Int32Array, index: number, value: number, timeout?: number): WaitAsyncResult;
  }
).waitAsync;

/** Options of an async wait. */
export interface WaitOptions {
  /** Give up after this many milliseconds with a `TimeoutError`. Default: wait forever. */
  timeoutMs?: number | undefined;
  /** Give up when this signal aborts, with an `AbortError` whose `cause` is the abort reason. */
  signal?: AbortSignal | undefined;
}

/** Options of a blocking (`…Sync`) wait. */
export interface SyncWaitOptions {
  /** Give up after this many milliseconds with a `TimeoutError`. Default: wait forever. */
  timeoutMs?: number | undefined;
}

/** Returned by an attempt that could not complete yet. */
export const NOT_YET: unique symbol = Symbol('threadloop.notYet');
export type NotYet = typeof NOT_YET;

/** How long a blocking wait spins before it sleeps (ms). */
const SPIN_MS = 0.02;

/**
 * This thread's spins before blocking waits back off where they catch nothing (the holder shares
 * this CPU, or holds longer than a spin), as the spins of blocking calls do: see SpinBackoff.
 */
const spinBackoff = new SpinBackoff();
/** A waiter waiting longer than this claims the gate. */
const STARVE_MS = 2;
/** A gate claim not refreshed for this long is void (its holder is gone or stuck). */
const LEASE_MS = 100;
/** A gate holder wakes at least this often to refresh its claim. */
const REFRESH_MS = LEASE_MS / 4;

/** Words a Gate needs, starting at its base index. */
export const GATE_WORDS = 3;
const G_OWNER = 0; // arrival ticket of the waiter holding the gate, 0 = open
const G_STAMP = 1; // low 31 bits of Date.now() when the holder last refreshed
const G_TICKETS = 2; // arrival ticket counter

function stamp(): number {
  return Date.now() & 0x7fffffff;
}

/** Anti-starvation gate over three words of a primitive's state. */
export class Gate {
  constructor(
    private readonly i32: Int32Array,
    private readonly base: number,
  ) {}

  /** A fresh, nonzero arrival ticket. Tickets compare by wrap-around difference. */
  ticket(): number {
    let t = Atomics.add(this.i32, this.base + G_TICKETS, 1) + 1;
    if (t === 0) t = Atomics.add(this.i32, this.base + G_TICKETS, 1) + 1;
    return t;
  }

  /** True while a live claim is held by someone other than `ticket` (0 = not waiting). */
  blocks(ticket: number): boolean {
    const owner = Atomics.load(this.i32, this.base + G_OWNER);
    if (owner === 0 || owner === ticket) return false;
    return !this.stale();
  }

  /** True when a live claim exists (releasers then wake every waiter, so the holder hears it). */
  active(): boolean {
    return Atomics.load(this.i32, this.base + G_OWNER) !== 0 && !this.stale();
  }

  private stale(): boolean {
    const age = (stamp() - Atomics.load(this.i32, this.base + G_STAMP)) | 0;
    return age > LEASE_MS || age < -LEASE_MS;
  }

  /** Claims (or refreshes) the gate for `ticket` if it is open, stale, or held by a younger waiter. */
  claim(ticket: number): boolean {
    for (;;) {
      const owner = Atomics.load(this.i32, this.base + G_OWNER);
      if (owner === ticket) {
        Atomics.store(this.i32, this.base + G_STAMP, stamp());
        return true;
      }
      const older = owner !== 0 && ((owner - ticket) | 0) < 0;
      if (older && !this.stale()) return false;
      // Stamp first: a claim must never be observed with a stale stamp.
      Atomics.store(this.i32, this.base + G_STAMP, stamp());
      if (Atomics.compareExchange(this.i32, this.base + G_OWNER, owner, ticket) === owner) {
        return true;
      }
    }
  }

  /** Gives the gate up if `ticket` holds it; returns whether it did. */
  leave(ticket: number): boolean {
    return Atomics.compareExchange(this.i32, this.base + G_OWNER, ticket, 0) === ticket;
  }
}

/** Where a primitive's waiters sleep. */
export interface WaitCell {
  readonly i32: Int32Array;
  /**
   * Index of the wake word. It may be the primitive's state word itself, when waiters wait for
   * that word to change (then the primitive notifies it directly, never calls `wake`, and has no
   * `waiters` count).
   */
  readonly wake: number;
  /**
   * Index of the waiter count. A cell with one is woken with `wake`, and its wake word is a
   * wake-up counter (in steps of 2) whose low bit says that a waiter may be asleep.
   */
  readonly waiters?: number;
  /** Anti-starvation gate, for primitives where waiters compete for a resource. */
  readonly gate?: Gate;
}

/**
 * Wakes up to `count` sleepers of a cell after a state change that may let them through.
 *
 * Waiters set the low bit of the wake word before each try (see `Waiter.turn`), so a waker that
 * finds it clear knows that nobody has gone to sleep since the last wake-up and skips
 * `Atomics.notify` — otherwise every put or release in the tens of microseconds a woken thread
 * takes to run again would pay for a notify. With at most one waiter the bump clears the bit;
 * with more it stays set, since those not woken now still sleep.
 */
export function wake(cell: WaitCell, count = 1): void {
  const { i32 } = cell;
  const word = Atomics.load(i32, cell.wake);
  if ((word & 1) === 0) return;
  // While a gate is held only its holder may proceed; wake everyone so the holder hears it.
  const n = cell.gate?.active() === true ? Infinity : count;
  if (n === 1 && cell.waiters !== undefined && Atomics.load(i32, cell.waiters) <= 1) {
    // A failed exchange means another waker bumped the word, and notified, since we looked.
    if (Atomics.compareExchange(i32, cell.wake, word, word + 1) !== word) return;
  } else {
    Atomics.add(i32, cell.wake, 2);
  }
  Atomics.notify(i32, cell.wake, n);
}

/** Validates wait options at the call that passed them; an aborted signal rejects the call. */
export function checkWaitOptions(opts: WaitOptions | undefined, where: string): void {
  if (opts === undefined) return;
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError(`${where}: options must be an object`);
  }
  checkTimeout(opts.timeoutMs, `${where}: timeoutMs`); // (as everywhere in threadloop)
  const s = opts.signal;
  if (s !== undefined && !(s instanceof AbortSignal)) {
    throw new TypeError(`${where}: signal must be an AbortSignal`);
  }
  // Aborted already: rejected even where the call would not have to wait (as a pool's submit, and
  // Node's own APIs, do), so whether it takes the resource never depends on a race.
  if (s?.aborted === true) throw abortError(where, s);
}

/**
 * How long to sleep before looking again. A gated waiter wakes when it becomes starving (to claim
 * the gate before the next release, not after losing it) and then every REFRESH_MS (to keep its
 * claim alive).
 */
function sliceFor(gate: Gate | undefined, starving: boolean, remaining: number, waited: number): number {
  if (gate === undefined) return remaining;
  if (starving) return Math.min(remaining, REFRESH_MS);
  return Math.min(remaining, Math.max(STARVE_MS - waited, 0.1));
}

function now(): number {
  return performance.now();
}

function timeoutError(where: string, timeoutMs: number): TimeoutError {
  return new TimeoutError(`${where} timed out after ${timeoutMs} ms`);
}

export function abortError(where: string, signal: AbortSignal): AbortError {
  return new AbortError(`${where} was aborted`, { cause: signal.reason });
}

/**
 * One waiter's way through a wait, shared by the blocking and the async loop: each `turn` tries
 * once and, when that fails, works out how long to sleep and on which wake-word value.
 */
class Waiter<T> {
  /** The wake word as it was before the last try: sleep only while it still holds this. */
  seen = 0;
  /** How long to sleep after a failed turn (ms; undefined: until woken). */
  slice: number | undefined;
  readonly #deadline: number;
  #ticket = 0;
  #starving = false;

  constructor(
    private readonly cell: WaitCell,
    private readonly attempt: (allowed: boolean) => T | NotYet,
    private readonly timeoutMs: number,
    private readonly where: string,
    /** When the wait began: the deadline and the starvation clock count from here. */
    private readonly start = now(),
  ) {
    this.#deadline = start + timeoutMs;
  }

  /** Counts this waiter in, so wakers notify. */
  enter(): void {
    if (this.cell.waiters !== undefined) Atomics.add(this.cell.i32, this.cell.waiters, 1);
  }

  /** Tries once; on NOT_YET sets `seen` and `slice`. Throws TimeoutError past the deadline. */
  turn(): T | NotYet {
    const { i32, gate } = this.cell;
    this.seen = Atomics.load(i32, this.cell.wake);
    // Where wakers use `wake`, raise the may-sleep bit so the next change notifies us (already
    // raised: a waker that clears it also bumps the word, so we would not sleep on this value).
    if (this.cell.waiters !== undefined && (this.seen & 1) === 0) {
      this.seen = Atomics.or(i32, this.cell.wake, 1) | 1;
    }
    const r = this.attempt(gate === undefined || !gate.blocks(this.#ticket));
    if (r !== NOT_YET) return r;
    const t = now();
    const remaining = this.#deadline - t;
    if (remaining <= 0) throw timeoutError(this.where, this.timeoutMs);
    if (gate !== undefined) {
      if (this.#ticket === 0) this.#ticket = gate.ticket();
      if (!this.#starving && t - this.start >= STARVE_MS) this.#starving = true;
      if (this.#starving) gate.claim(this.#ticket);
    }
    const slice = sliceFor(gate, this.#starving, remaining, t - this.start);
    this.slice = slice === Infinity ? undefined : slice;
    return NOT_YET;
  }

  /** Counts this waiter out and gives up its gate claim, waking the others to compete. */
  leave(): void {
    const { cell } = this;
    if (cell.waiters !== undefined) Atomics.sub(cell.i32, cell.waiters, 1);
    if (this.#ticket !== 0 && cell.gate?.leave(this.#ticket) === true) wake(cell, Infinity);
  }
}

/**
 * Runs `attempt` until it returns something other than NOT_YET, blocking the thread in between.
 * `attempt(allowed)`: `allowed` is false while another waiter holds the gate; an attempt that
 * takes a contended resource must then not take it. An attempt may throw to end the wait.
 */
export function waitUntilSync<T>(
  cell: WaitCell,
  attempt: (allowed: boolean) => T | NotYet,
  opts: SyncWaitOptions | undefined,
  where: string,
): T {
  const timeoutMs = opts?.timeoutMs ?? Infinity;
  const start = now();
  if (spinBackoff.shouldSpin()) {
    const spun = spin(cell, attempt, start + Math.min(timeoutMs, SPIN_MS));
    spinBackoff.spun(spun !== NOT_YET);
    if (spun !== NOT_YET) return spun;
  }
  const waiter = new Waiter(cell, attempt, timeoutMs, where, start);
  waiter.enter();
  try {
    for (;;) {
      const r = waiter.turn();
      if (r !== NOT_YET) return r;
      Atomics.wait(cell.i32, cell.wake, waiter.seen, waiter.slice);
    }
  } finally {
    waiter.leave();
  }
}

/**
 * Spins briefly before a blocking wait sleeps: a sleep/notify pair costs microseconds (the waker
 * pays for the notify too), while the other side often frees the resource within that time.
 * Spinners are not counted as waiters, so wakers skip `Atomics.notify` for them.
 */
function spin<T>(cell: WaitCell, attempt: (allowed: boolean) => T | NotYet, until: number): T | NotYet {
  const { gate } = cell;
  for (;;) {
    const r = attempt(gate === undefined || !gate.blocks(0));
    if (r !== NOT_YET || now() >= until) return r;
  }
}

// Pending async waits keep the process alive, like a pending timer would: a program awaiting
// `q.get()` must not exit under it. `Atomics.waitAsync` alone holds no handle.
let keepAliveCount = 0;
let keepAliveTimer: ReturnType<typeof setInterval> | undefined;
function holdProcess(): void {
  if (keepAliveCount++ === 0) keepAliveTimer = setInterval(() => {}, 0x7fffffff);
}
function releaseProcess(): void {
  if (--keepAliveCount === 0 && keepAliveTimer !== undefined) {
    clearInterval(keepAliveTimer);
    keepAliveTimer = undefined;
  }
}

/**
 * The async twin of `waitUntilSync`: sleeps with `Atomics.waitAsync`, so the event loop keeps
 * running. Callers should try their fast path first; this is the slow path.
 */
export async function waitUntil<T>(
  cell: WaitCell,
  attempt: (allowed: boolean) => T | NotYet,
  opts: WaitOptions | undefined,
  where: string,
): Promise<T> {
  const signal = opts?.signal;
  if (signal?.aborted === true) throw abortError(where, signal);
  const waiter = new Waiter(cell, attempt, opts?.timeoutMs ?? Infinity, where);
  const { i32 } = cell;
  let aborted = false;
  let interrupt: ((v: 'aborted') => void) | undefined;
  const onAbort = (): void => {
    aborted = true;
    interrupt?.('aborted');
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  waiter.enter();
  let holding = false;
  try {
    for (;;) {
      const r = waiter.turn();
      if (r !== NOT_YET) return r;
      if (aborted && signal !== undefined) throw abortError(where, signal);
      const w = atomicsWaitAsync(i32, cell.wake, waiter.seen, waiter.slice);
      if (!w.async) continue;
      if (!holding) {
        holdProcess();
        holding = true;
      }
      if (signal === undefined) {
        await w.value;
      } else {
        await new Promise<unknown>((resolve) => {
          interrupt = resolve;
          w.value.then(resolve, resolve);
        });
        interrupt = undefined;
        if (aborted) {
          // Our waitAsync registration is still queued and could swallow a notify meant for a
          // live waiter: wake them all so each re-checks (and the stale registration goes).
          // No bump: for some primitives the wake word is the state itself.
          Atomics.notify(i32, cell.wake);
          throw abortError(where, signal);
        }
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (holding) releaseProcess();
    waiter.leave();
  }
}
