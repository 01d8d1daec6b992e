/**
 * threadloop — async/await and threads together for Node.js.
 *
 * The public API: tasks, futures, executors, and (from other modules of this folder) loops and
 * shared-memory primitives. See README.md for the tour and the Python → threadloop table.
 *
 * @example
 * import { ThreadPoolExecutor, taskModule } from 'threadloop';
 *
 * const math = taskModule<typeof import('./math.js')>(new URL('./math.js', import.meta.url));
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 4 });
 * const fib30 = await pool.submit(math.fib, 30); // number, computed on a worker thread
 *
 * @module threadloop
 */
export * from './wire/errors.js';
export { Future, type FutureState, type WaitOptions, type DoneCallback } from './core/future.js';
export { UNOBSERVED_FAILURE_WARNING, type UnobservedFailures } from './core/unobserved.js';
export type { Executor, ExecutorOptions, ThreadPoolOptions, MapOptions, ShutdownOptions, Submitted } from './core/executor.js';
export type { ExecutorStats, DurationSummary } from './core/stats.js';
export { ThreadPoolExecutor } from './api/thread-pool.js';
export { ProcessPoolExecutor, type ProcessPoolOptions } from './api/process-pool.js';
export { taskModule, moduleTask, type Task, type TaskModule, type TaskModuleOptions, type TaskOptions, type Runnable, type AnyFunction } from './core/task.js';
export { toThread, runInExecutor, getDefaultExecutor, setDefaultExecutor } from './api/to-thread.js';
export { wait, asCompleted, type DoneFuture, type ReturnWhen, type WaitResult } from './api/wait.js';
export { currentTask, type TaskContext } from './runtime/current-task.js';
export { currentThread, type ThreadInfo } from './runtime/current-thread.js';
export { ContextVar, shareContext } from './core/context.js';
export { type TaskTraceContext } from './core/tracing.js';
export { TaskStream, type StreamChunk, type StreamReturn } from './core/stream.js';
export { TaskGroup, type TaskGroupOptions } from './api/task-group.js';
export { monitorLoopBlocking, LOOP_BLOCKED_WARNING, type LoopMonitor, type LoopMonitorOptions, type LoopBlockedInfo } from './api/monitor.js';
export { move } from './runtime/move.js';
export type { Transferable } from './wire/transferable.js';
export * from './shared/index.js';
export { startLoopThread, runCoroutineThreadsafe, startThread, LoopThread, type LoopThreadOptions, type ThreadHandle } from './api/loop-thread.js';
export { mainLoop, currentLoop } from './runtime/loops.js';
export type { Loop } from './runtime/loop.js';
