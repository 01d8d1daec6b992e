/**
 * Everything `threadloop/bullmq` takes from threadloop's own modules, in one place: when those
 * modules move, only the paths here change. The rest of this folder imports from this file.
 */
export { toTask, isTask, type AnyFunction, type Runnable, type Task } from '../../core/task.js';
export { taskModule } from '../../core/task.js';
export { Future, checkTimeout, describe, type FutureLink } from '../../core/future.js';
export { after, type Timer } from '../../core/timers.js';
export {
  ThreadloopError,
  AbortError,
  CancelledError,
  DeadlockError,
  ExecutorShutdownError,
  QueueFullError,
  TaskNotFoundError,
  TaskSerializationError,
  TimeoutError,
  WorkerCrashedError,
} from '../../wire/errors.js';
export type { Executor, MapOptions, ShutdownOptions, Submitted } from '../../core/executor.js';
export { checkUnobservedFailures } from '../../core/executor.js';
export type { UnobservedFailures } from '../../core/unobserved.js';
export { Samples, type ExecutorStats } from '../../core/stats.js';
export { ThreadPoolExecutor } from '../../api/thread-pool.js';
export { ProcessPoolExecutor } from '../../api/process-pool.js';
export { encodeError, decodeError, type EncodedError } from '../../wire/error-codec.js';
export { findUncloneable, MAX_DEPTH, withinDepth } from '../../wire/clone-check.js';
export { refuseUnknownOptions } from '../../wire/checks.js';
export { checkMapOptions, MapRun, type MapHost } from '../../api/map-run.js';
export { LOAD_MODULE } from '../../runtime/task-registry.js';
