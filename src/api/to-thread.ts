/**
 * `toThread` and `runInExecutor`: asyncio's `to_thread` and `loop.run_in_executor`, on a default
 * thread pool that is created on first use and never keeps the process alive when idle.
 */
import type { Executor } from '../core/executor.js';
import type { Future } from '../core/future.js';
import { ThreadPoolExecutor } from './thread-pool.js';
import { describe } from '../core/future.js';
import type { AnyFunction, Runnable } from '../core/task.js';
import { perThread } from '../wire/thread-state.js';

// Per thread, not per copy of threadloop (wire/thread-state.ts): one default pool per thread.
const state = perThread('default-executor', 1, () => ({ executor: undefined as Executor | undefined }));

/**
 * The executor `toThread` and `runInExecutor(null, …)` use, created on first use.
 *
 * @example
 * console.log(getDefaultExecutor().stats().workers);
 */
export function getDefaultExecutor(): Executor {
  return (state.executor ??= new ThreadPoolExecutor({ name: 'threadloop-default' }));
}

/**
 * Replaces the default executor (the old one is not shut down: that is yours to do).
 *
 * @example
 * setDefaultExecutor(new ThreadPoolExecutor({ maxWorkers: 8 }));
 */
export function setDefaultExecutor(executor: Executor): void {
  if (typeof executor !== 'object' || executor === null || typeof executor.submit !== 'function') {
    throw new TypeError(`setDefaultExecutor expects an Executor, got ${describe(executor)}`);
  }
  state.executor = executor;
}

/**
 * Runs `task(...args)` on the default thread pool; await the returned Future for its result.
 *
 * @example
 * const data = await toThread(() => require('node:fs').readFileSync('/etc/hosts', 'utf8'));
 * const n = await toThread(math.fib, 30);
 */
export function toThread<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): Future<Awaited<ReturnType<F>>> {
  return getDefaultExecutor().submit(task, ...args);
}

/**
 * Runs `task(...args)` on `executor`, or on the default thread pool when it is null.
 *
 * @example
 * const pool = new ThreadPoolExecutor({ maxWorkers: 20 });
 * const page = await runInExecutor(pool, fetchSync, url);
 */
export function runInExecutor<F extends AnyFunction>(
  executor: Executor | null | undefined,
  task: Runnable<F>,
  ...args: Parameters<F>
): Future<Awaited<ReturnType<F>>> {
  return (executor ?? getDefaultExecutor()).submit(task, ...args);
}
