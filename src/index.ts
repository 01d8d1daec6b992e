/**
 * threadloop — async/await and threads together for Node.js.
 *
 * The public API: tasks, futures, executors, and (from other modules of this folder) loops and
 * shared-memory primitives. See README.md for the tour and the Python → threadloop table.
 */
export * from './wire/errors.js';
export { Future, type FutureState, type WaitOptions, type DoneCallback } from './core/future.js';
export type { Executor, ExecutorOptions, ThreadPoolOptions, MapOptions, ShutdownOptions, Submitted } from './core/executor.js';
export type { ExecutorStats, DurationSummary } from './core/stats.js';
export { ThreadPoolExecutor } from './api/thread-pool.js';
export { ProcessPoolExecutor, type ProcessPoolOptions } from './api/process-pool.js';
export { taskModule, moduleTask, type Task, type TaskModule, type TaskOptions, type Runnable, type AnyFunction } from './core/task.js';
export { toThread, runInExecutor, getDefaultExecutor, setDefaultExecutor } from './api/to-thread.js';
export { wait, asCompleted, type ReturnWhen, type WaitResult } from './api/wait.js';
export { currentTask, type TaskContext } from './runtime/current-task.js';
export { monitorLoopBlocking, LOOP_BLOCKED_WARNING, type LoopMonitor, type LoopMonitorOptions, type LoopBlockedInfo } from './api/monitor.js';
export { move } from './runtime/move.js';
export type { Transferable } from './wire/transferable.js';
export * from './shared/index.js';
export { startLoopThread, runCoroutineThreadsafe, startThread, LoopThread, type LoopThreadOptions, type ThreadHandle } from './api/loop-thread.js';
export { mainLoop, currentLoop } from './runtime/loops.js';
export type { Loop } from './runtime/loop.js';
