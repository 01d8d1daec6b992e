/**
 * TaskGroup: structured concurrency over threads — Python 3.11's `asyncio.TaskGroup` for tasks
 * sent to pools and loop threads. Every task submitted through a group watches the group's
 * signal; the first failure aborts the rest; joining waits for every one of them.
 *
 *     open ──▶ aborted ──▶ joined          (a task failed, the group's signal, or abort())
 *       └────────────────────▶ joined      (every task settled and join() returned)
 */
import type { Executor } from '../core/executor.js';
import { describe, type Future } from '../core/future.js';
import { toTask, type AnyFunction, type Runnable } from '../core/task.js';
import type { Loop } from '../runtime/loop.js';
import { AbortError, CancelledError } from '../wire/errors.js';

/** Options of a TaskGroup. */
export interface TaskGroupOptions {
  /** Aborting it aborts the group, as `abort()` does. */
  signal?: AbortSignal | undefined;
}

/** `open`: takes tasks; `aborted`: takes none, its tasks are being stopped; `joined`: finished. */
type GroupState = 'open' | 'aborted' | 'joined';

/**
 * A set of tasks — on any executors and loops — that succeed or fail together.
 *
 * - `submit(executorOrLoop, task, ...args)` runs the task there and returns its Future.
 * - The first task to fail aborts the group: tasks not started are cancelled and never run,
 *   running ones have their `currentTask().signal` fired (and, if they ignore it, are ended as
 *   any aborted task is, after `abortGraceMs`).
 * - `join()` waits for every task, then resolves with their results in submit order, or rejects
 *   with an `AggregateError` of the failures — not of the cancellations and aborts the group
 *   itself caused. A group aborted by its signal (or `abort()`) with no failure rejects with
 *   `AbortError`. A task cancelled on its own (`future.cancel()`) is no failure: its result is
 *   `undefined`.
 * - `await using` joins at the end of the block: nothing the group started keeps running unseen.
 *   (Disposal cannot see an exception thrown in the block; to abort the group on one, catch it
 *   and call `group.abort(error)`.)
 *
 * @example
 * await using group = new TaskGroup();
 * const user = group.submit(pool, api.fetchUser, id);
 * const orders = group.submit(loop, db.orders, id);
 * const [u, o] = await group.join(); // or, if either fails, the other is aborted
 */
export class TaskGroup implements AsyncDisposable {
  readonly #controller = new AbortController();
  readonly #results: unknown[] = [];
  readonly #failures: unknown[] = [];
  readonly #futures: Future<unknown>[] = [];
  #state: GroupState = 'open';
  /** Why the group was aborted, once it was. */
  #reason: unknown = undefined;
  #pending = 0;
  #idle: (() => void)[] = [];
  #joined: Promise<unknown[]> | undefined = undefined;

  constructor(options: TaskGroupOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError(`TaskGroup options must be an object, got ${describe(options)}`);
    const { signal } = options;
    if (signal !== undefined) {
      if (!(signal instanceof AbortSignal)) throw new TypeError(`TaskGroup: signal must be an AbortSignal, got ${describe(signal)}`);
      if (signal.aborted) this.abort(signal.reason);
      else signal.addEventListener('abort', () => this.abort(signal.reason), { once: true });
    }
  }

  /** Fires when the group aborts: the signal every task of the group watches. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Runs `task(...args)` on `target` (an executor or a loop) as a task of this group, and returns
   * its Future. Throws what `target.submit` throws, and `AbortError` once the group is aborted.
   *
   * @example const f = group.submit(pool, math.fib, 30);
   */
  submit<F extends AnyFunction>(target: Executor | Loop, task: Runnable<F>, ...args: Parameters<F>): Future<Awaited<ReturnType<F>>> {
    if (typeof target !== 'object' || target === null || typeof (target as Partial<Executor>).submit !== 'function') {
      throw new TypeError(`TaskGroup.submit: expected an executor or a loop, got ${describe(target)}`);
    }
    if (this.#state === 'aborted') throw new AbortError('the task group is aborted and takes no more tasks', { cause: this.#reason });
    if (this.#state === 'joined') throw new Error('the task group has finished (joined); start a new TaskGroup for more tasks');
    const t = toTask(task);
    const own = t.options.signal;
    const signal = own === undefined ? this.#controller.signal : AbortSignal.any([own, this.#controller.signal]);
    const future = (target as Executor).submit(t.with({ signal }), ...args);
    const index = this.#futures.length;
    this.#futures.push(future as Future<unknown>);
    this.#results.push(undefined);
    this.#pending++;
    // A done callback runs as the future settles, before its executor sends the next queued
    // task: a failure aborts the group before another of its tasks can start.
    future.addDoneCallback((done) => {
      try {
        // Not yet looked at: join() hands the failures over (a group never joined lets them be reported).
        this.#results[index] = done.peek();
      } catch (error) {
        this.#failed(error);
      }
      this.#settled();
    });
    return future;
  }

  /**
   * Aborts the group: tasks not started are cancelled, running ones have their signal fired.
   * `join()` then rejects (with `AbortError`, or the failures if there were any).
   */
  abort(reason: unknown = new AbortError('the task group was aborted')): void {
    if (this.#state !== 'open') return;
    this.#state = 'aborted';
    this.#reason = reason;
    // Cancelled first, so that tasks not yet started never start; then the running ones are told.
    for (const future of this.#futures) if (!future.done()) future.cancel();
    this.#controller.abort(reason);
  }

  /**
   * Waits for every task of the group (also those submitted meanwhile), then resolves with their
   * results in submit order, or rejects: `AggregateError` of the failures, else `AbortError` if
   * the group was aborted.
   */
  join(): Promise<unknown[]> {
    return (this.#joined ??= this.#join());
  }

  /** `await using group = new TaskGroup()`: joins at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.join();
  }

  async #join(): Promise<unknown[]> {
    while (this.#pending > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    const aborted = this.#state === 'aborted';
    this.#state = 'joined';
    for (const future of this.#futures) future.markObserved(); // their failures go to the caller now
    if (this.#failures.length > 0) {
      const n = this.#failures.length;
      throw new AggregateError(this.#failures, `${n} task${n === 1 ? '' : 's'} of the group failed`);
    }
    if (aborted) throw new AbortError('the task group was aborted', { cause: this.#reason });
    return this.#results;
  }

  #failed(error: unknown): void {
    if (error instanceof CancelledError) return; // cancelled: by the group, or on its own
    // Aborted by the group: the call table's AbortError carries the group's reason as cause.
    if (this.#state !== 'open' && error instanceof AbortError && error.cause === this.#reason) return;
    this.#failures.push(error);
    if (this.#state === 'open') {
      const message = error instanceof Error ? error.message : describe(error);
      this.abort(new AbortError(`another task of the group failed: ${message}`, { cause: error }));
    }
  }

  #settled(): void {
    if (--this.#pending > 0) return;
    for (const wake of this.#idle.splice(0)) wake();
  }
}
