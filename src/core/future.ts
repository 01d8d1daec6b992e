/**
 * Future<T>: the result of work that runs somewhere else, in one clear state machine
 * (after CPython's `concurrent.futures._base.Future`):
 *
 *     pending ──▶ running ──▶ finished
 *        │
 *        └──────▶ cancelled
 *
 * A future settles exactly once. It is a native Promise, so `await future`, `Promise.all` and
 * `.then` take the engine's fast paths (see the note after the class). A failed or cancelled
 * future nobody awaits raises no unhandled rejection: like a CPython future, it keeps its error
 * until someone asks. One that failed and is collected (or outlives its thread) with nobody
 * having asked is reported, as asyncio reports "Future exception was never retrieved"
 * (core/unobserved.ts; how a future knows who looked: "Knowing who looks", after the class).
 *
 * Whoever holds the work (a pool's queue, a worker) attaches a {@link FutureLink} so that
 * `cancel()` can withdraw work that has not started, `state` can tell whether it has started, and
 * `resultSync()` can block on the place the result will come from.
 */
import { CancelledError, DeadlockError, InvalidStateError, TimeoutError } from '../wire/errors.js';
import { brand } from '../wire/thread-state.js';
import { after } from './timers.js';
import { waitTimeout } from '../wire/checks.js';
import { failureSeen, watchFailure, worthReporting, type UnobservedFailures, type UnseenFailure } from './unobserved.js';

/** Marks a Future of any copy of threadloop in the thread (a loader may load a second copy). */
const FUTURE = brand('future');

/** Where a future is in its life. */
export type FutureState = 'pending' | 'running' | 'finished' | 'cancelled';

/** Options of the waits on a future. */
export interface WaitOptions {
  /** Give up after this many milliseconds with a `TimeoutError`; the work is not cancelled. */
  timeoutMs?: number | undefined;
}

/**
 * The holder of a future's work. Implemented by the scheduling core, never by users.
 * @internal
 */
export interface FutureLink {
  /** Take the work back if it has not started; true if it was taken back. */
  withdraw(): boolean;
  /** Whether the work has started on its thread. */
  hasStarted(): boolean;
  /**
   * Block this thread until the future settles or `deadline` (a `performance.now()` time) passes.
   * Throws DeadlockError where only this thread could settle it.
   */
  waitSync(future: Future<unknown>, deadline: number): void;
  /** What a warning calls the work: its task's name. */
  readonly name: string;
  /** Whether its failure is reported if nobody looks at it (its owner's option). Default `'warn'`. */
  readonly unobservedFailures?: UnobservedFailures | undefined; // (so for exactOptionalPropertyTypes: Call's getter returns undefined)
}

/** A function `addDoneCallback` calls with the future once it is done. */
export type DoneCallback<T> = (future: Future<T>) => void;

/**
 * The eventual result of a task. `await` it, or use the concurrent.futures-style methods.
 * A failed future that is garbage-collected with nobody having looked at its error (awaited it,
 * `then`/`catch`, `result()`, `exception()`, `resultSync()`) emits a
 * `THREADLOOP_UNOBSERVED_FAILURE` process warning; see the executors' `unobservedFailures`.
 *
 * @example
 * const f = executor.submit(math.fib, 30);
 * f.addDoneCallback((f) => console.log('done', f.state));
 * console.log(await f); // 832040
 */
export class Future<T> extends Promise<T> {
  #state: 'pending' | 'running' | 'finished' | 'cancelled' = 'pending';
  /** The value, or the error when `#failed`. */
  #settled: unknown = undefined;
  #failed = false;
  #callbacks: DoneCallback<T>[] | undefined = undefined;
  /**
   * Whether anyone has looked at the outcome (see "Knowing who looks", after the class):
   * `unobserved`, `observed`, or — failed with nobody looking — the failure that will be
   * reported unless someone looks before the future is collected.
   */
  #observation: 'unobserved' | 'observed' | UnseenFailure = 'unobserved';
  /** Settles the promise; rejecting goes through it too (see #settle), so that the reject
   * function V8 makes for every promise is not kept alive for as long as the future waits. */
  #resolvePromise: ((v: T | PromiseLike<T>) => void) | undefined;
  /** @internal */
  link: FutureLink | undefined = undefined;

  /**
   * Executors and loops make the futures of their calls. Make one yourself to bridge a callback
   * API, or in tests, and settle it with `setResult` / `setException` (concurrent.futures style).
   *
   * @example
   * const f = new Future<string>();
   * emitter.once('ready', (v) => f.setResult(v));
   * console.log(await f);
   */
  constructor(...notAllowed: unknown[]) {
    // Only the inherited statics (`Future.resolve`, `Future.all`, …) pass an executor: they would
    // make a future nobody settles. Species-made promises (`then`, `finally`) are plain Promises.
    if (notAllowed.length > 0) {
      throw new TypeError('new Future() takes no arguments (settle it with setResult or setException); use Promise.resolve(), Promise.all() and the like for plain promises');
    }
    super(captureResolvers as (resolve: (v: T) => void, reject: (e: unknown) => void) => void);
    this.#resolvePromise = capturedResolve as (v: T | PromiseLike<T>) => void;
    capturedResolve = undefined; // else it would keep the last future made alive (and unreported)
  }

  /** Where this future is: `'pending'`, `'running'`, `'finished'` or `'cancelled'`. */
  get state(): FutureState {
    if (this.#state === 'pending' && this.link?.hasStarted() === true) this.#state = 'running';
    return this.#state;
  }

  /** True once finished or cancelled. */
  done(): boolean {
    return this.#state === 'finished' || this.#state === 'cancelled';
  }

  /** True while the task runs. */
  running(): boolean {
    return this.state === 'running';
  }

  /** True if the future was cancelled. */
  cancelled(): boolean {
    return this.#state === 'cancelled';
  }

  /**
   * Cancels the future if its task has not started. Returns true if the future is cancelled
   * (now or before), false if the task is running or finished. To stop a *running* task, submit
   * it with `task.with({ signal })` and abort the signal.
   *
   * @example
   * const f = executor.submit(slow);
   * if (f.cancel()) console.log('never ran');
   */
  cancel(): boolean {
    const state = this.state;
    if (state === 'cancelled') return true;
    if (state !== 'pending') return false;
    if (this.link !== undefined && !this.link.withdraw()) {
      this.#state = 'running';
      return false;
    }
    this.#settle('cancelled', undefined, new CancelledError(), true);
    return true;
  }

  /**
   * Resolves with the result; rejects with the task's error, a `CancelledError`, or a
   * `TimeoutError` when `timeoutMs` passes first (the task goes on).
   *
   * @example
   * const value = await future.result({ timeoutMs: 1000 });
   */
  result(options: WaitOptions = {}): Promise<T> {
    return this.#waitDone(options).then(() => this.#outcome());
  }

  /**
   * Resolves with the task's error, or undefined if it succeeded. Rejects with `CancelledError`
   * if cancelled, `TimeoutError` if `timeoutMs` passes first.
   *
   * @example
   * const err = await future.exception();
   */
  exception(options: WaitOptions = {}): Promise<unknown> {
    return this.#waitDone(options).then(() => {
      this.#observe();
      if (this.#state === 'cancelled') throw this.#settled;
      return this.#failed ? this.#settled : undefined;
    });
  }

  /**
   * Blocks the calling thread until the future settles, then returns the result or throws its
   * error — from any thread, the main one included. Throws `TimeoutError` after `timeoutMs`
   * (the task goes on) and `DeadlockError` at once if only this thread could settle the future.
   *
   * @example
   * const hash = executor.submit(hashFile, path).resultSync({ timeoutMs: 5000 });
   */
  resultSync(options: WaitOptions = {}): T {
    const timeoutMs = waitTimeout(options); // checked whether or not it waits: a mistake is not a matter of timing
    if (!this.done()) {
      if (this.link === undefined) {
        throw new DeadlockError(
          'resultSync() would block forever: this future is settled by code on this same thread',
        );
      }
      const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
      this.link.waitSync(this as Future<unknown>, deadline);
      if (!this.done()) {
        throw new TimeoutError(`the future did not settle within ${timeoutMs} ms`);
      }
    }
    return this.#outcome();
  }

  /**
   * Calls `fn(future)` once when the future is done — at once if it already is. An exception
   * thrown by `fn` is reported as a process warning, never swallowed.
   *
   * @example
   * future.addDoneCallback((f) => { if (!f.cancelled()) log(f.state); });
   */
  addDoneCallback(fn: DoneCallback<T>): void {
    if (typeof fn !== 'function') throw new TypeError('addDoneCallback expects a function');
    if (this.done()) {
      runCallback(fn, this);
      return;
    }
    (this.#callbacks ??= []).push(fn);
  }

  override get [Symbol.toStringTag](): string {
    return `Future<${this.state}>`;
  }

  /** How `console.log` and `util.inspect` show it: `Future <finished: 42>`, like Python's repr. */
  [Symbol.for('nodejs.util.inspect.custom')](_depth: number, options: object, inspect: (value: unknown, options: object) => string): string {
    const state = this.state;
    if (state !== 'finished') return `Future <${state}>`;
    if (!this.#failed) return `Future <finished: ${inspect(this.#settled, { ...options, depth: 1 })}>`;
    const error = this.#settled;
    return `Future <failed: ${error instanceof Error ? `${error.name}: ${error.message}` : inspect(error, { ...options, depth: 1 })}>`;
  }

  // ── settling it yourself (concurrent.futures' Executor-side API) ──────────────────────────

  /**
   * Settles the future with `value`. Throws `InvalidStateError` if it is already done.
   *
   * @example
   * const f = new Future<number>();
   * f.setResult(42);
   */
  setResult(value: T): void {
    this.#checkSettable('setResult');
    this.resolve(value);
  }

  /**
   * Settles the future with `error`. Throws `InvalidStateError` if it is already done.
   *
   * @example
   * f.setException(new Error('no answer'));
   */
  setException(error: unknown): void {
    this.#checkSettable('setException');
    this.reject(error);
  }

  /**
   * Marks a pending future as running, and returns true — or returns false if it was cancelled
   * (then do not run the work). Throws `InvalidStateError` if it is running or done already.
   *
   * @example
   * if (f.setRunningOrNotifyCancel()) f.setResult(work());
   */
  setRunningOrNotifyCancel(): boolean {
    if (this.#state === 'cancelled') return false;
    if (this.#state !== 'pending' || this.link !== undefined) {
      throw new InvalidStateError(`setRunningOrNotifyCancel() on a future that is ${this.state}`);
    }
    this.#state = 'running';
    return true;
  }

  #checkSettable(what: string): void {
    if (this.done()) throw new InvalidStateError(`${what}() on a future that is already ${this.#state}`);
    if (this.link !== undefined) throw new InvalidStateError(`${what}() on a future an executor or a loop settles`);
  }

  // ── settling: called by the calling side ─────────────────────────────────────────────────

  /** Settles with a value. Ignored if already settled. @internal */
  resolve(value: T): void {
    this.#settle('finished', value, undefined, false);
  }

  /** Settles with an error. Ignored if already settled. @internal */
  reject(error: unknown): void {
    this.#settle('finished', undefined, error, true);
  }

  /** Settles as cancelled, with `error` as the reason awaiting rejects with. @internal */
  cancelWith(error: unknown): void {
    this.#settle('cancelled', undefined, error, true);
  }

  #settle(state: 'finished' | 'cancelled', value: T | undefined, error: unknown, failed: boolean) {
    if (this.#state === 'finished' || this.#state === 'cancelled') return;
    const link = this.link;
    this.#state = state;
    this.#settled = failed ? error : value;
    this.#failed = failed;
    this.link = undefined;
    const resolvePromise = this.#resolvePromise;
    if (resolvePromise !== undefined) {
      this.#resolvePromise = undefined;
      if (failed) {
        // Handled from now on: an error nobody asks for is kept, not raised (see the class doc).
        // This then() reads `constructor` too, which is no one looking: the observation stays.
        const observation = this.#observation;
        promiseThen.call(this, undefined, ignore);
        this.#observation = observation;
        if (observation === 'unobserved' && state === 'finished' && link?.unobservedFailures !== 'ignore' && worthReporting(error)) {
          this.#observation = watchFailure(this, link?.name, error);
        }
        resolvePromise(rejecting(error) as PromiseLike<T>);
      } else {
        resolvePromise(value as T);
      }
    }
    const callbacks = this.#callbacks;
    if (callbacks !== undefined) {
      this.#callbacks = undefined;
      for (const fn of callbacks) runCallback(fn, this);
    }
  }

  /** The outcome, handed over: `result()`, `resultSync()`. */
  #outcome(): T {
    this.#observe();
    return this.peek();
  }

  /**
   * The outcome of a done future (its value, or throws its error) without counting as looking
   * at it: for threadloop's helpers that hand the error over later (a TaskGroup, at `join()`)
   * or only ask whether it failed (`wait`). @internal
   */
  peek(): T {
    if (this.#failed) throw this.#settled;
    return this.#settled as T;
  }

  /**
   * Counts the outcome as looked at: the caller answers for its failure (a map whose consumer
   * left drops the calls it left behind; a stream hands the error to its reader). @internal
   */
  markObserved(): void {
    this.#observe();
  }

  #observe(): void {
    const observation = this.#observation;
    if (observation === 'observed') return;
    if (observation !== 'unobserved') failureSeen(observation);
    this.#observation = 'observed';
  }

  #waitDone(options: WaitOptions): Promise<void> {
    const timeoutMs = waitTimeout(options);
    if (this.done()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = timeoutMs === undefined ? undefined : after(timeoutMs, () => reject(new TimeoutError(`the future did not settle within ${timeoutMs} ms`)));
      this.addDoneCallback(() => {
        timer?.clear();
        resolve();
      });
    });
  }

  static {
    // See "Knowing who looks", after the class. Read on Future.prototype itself (no future) too.
    Object.defineProperty(Future.prototype, 'constructor', {
      get(this: object): PromiseConstructor {
        if (#observation in this) this.#observe();
        return Promise;
      },
      configurable: true,
    });
  }
}

// Why a Future's `constructor` is Promise: `await x`, `Promise.resolve(x)` and `Promise.all` use a
// promise as it is only when `x.constructor === Promise`; any other thenable costs a wrapper
// promise, a job and a `then` call. And `then` makes plain Promises (SpeciesConstructor), not
// Futures. `future instanceof Future` still holds.
//
// Knowing who looks (for core/unobserved.ts). A handler attached to a native promise is not
// visible from JavaScript: `await future` runs no `then` of ours (the engine links the promises
// itself), and whether a rejected promise has a handler is the engine's flag, reported only to
// Node's unhandled-rejection tracking. But everything that attaches one reads `constructor`
// first, because the spec says so: `await` and `Promise.resolve` (PromiseResolve: a promise whose
// constructor is %Promise% is used as it is — V8 skips the read only for promises whose prototype
// is Promise.prototype, which a Future's is not), `then` / `catch` / `finally`
// (SpeciesConstructor), `Promise.all` and the like (Promise.resolve on each), and resolving a
// promise with a future (its then job calls `then`: V8's shortcut there also wants
// Promise.prototype). So `constructor` is a getter that marks the future looked at, whenever it
// is read — before the failure or after — and returns Promise as before: the fast paths stay,
// the cost is one small call per await. Anything else that reads `future.constructor` counts
// as looking too (a deep-equal library): that can only miss a warning, never give a wrong one.
// The getter needs the private field, so it is defined inside the class (its `static` block).

// `f instanceof Future` holds for a future of another copy of threadloop too (mainLoop().submit()
// in task code that loaded a second copy under a loader such as tsx).
Object.defineProperty(Future.prototype, FUTURE, { value: true });
Object.defineProperty(Future, Symbol.hasInstance, {
  value: (value: unknown): boolean => typeof value === 'object' && value !== null && (value as { [FUTURE]?: true })[FUTURE] === true,
});

const promiseThen = Promise.prototype.then;
function ignore(): void {}

/** A thenable that rejects with `error`: a promise resolved with it rejects (a tick later). */
function rejecting(error: unknown): PromiseLike<never> {
  return { then: (_: unknown, reject?: ((e: unknown) => unknown) | null) => reject?.(error) } as PromiseLike<never>;
}

// One executor function for every future's promise, instead of a new closure each time.
let capturedResolve: ((v: unknown) => void) | undefined;
function captureResolvers(resolve: (v: unknown) => void): void {
  capturedResolve = resolve;
}

function runCallback<T>(fn: DoneCallback<T>, future: Future<T>): void {
  try {
    fn(future);
  } catch (error) {
    process.emitWarning(
      `a Future done callback threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      { code: 'THREADLOOP_DONE_CALLBACK' },
    );
  }
}

// Where every layer has long imported them from.
export { checkTimeout, describe, refuseUnknownOptions } from '../wire/checks.js';
