/**
 * Every error threadloop raises. Each class has a stable `code` so callers can branch on
 * `err.code`; `instanceof` works too, also across copies of threadloop loaded in one thread.
 */
import { brand } from './thread-state.js';

/** Marks threadloop's errors for every copy of threadloop in the thread. */
const ERROR = brand('error');

/** Base class of every threadloop error. */
export class ThreadloopError extends Error {
  /** Stable machine-readable code, e.g. `'ERR_CANCELLED'`. */
  readonly code: string = 'ERR_THREADLOOP';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }

  override get name(): string {
    return this.constructor.name;
  }

  /**
   * `instanceof` for this class and its subclasses. A thread can hold two copies of threadloop
   * (task code loaded through tsx's `require()` hook on Node 20 gets its own), and an error
   * thrown by one copy must still be `instanceof TimeoutError` for code using the other. Besides
   * the ordinary check, an error made by any copy (it carries a registered-symbol brand) is an
   * instance of a class when a class of the same name is on its prototype chain: the class
   * names are as stable as the codes, and unlike codes they tell a subclass that keeps its
   * parent's code (`ThreadpoolBusyError`, a `QueueFullError`) from its parent.
   *
   * @example
   * try { await future.result({ timeoutMs: 100 }); } catch (e) { if (e instanceof TimeoutError) retry(); }
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== 'object' || value === null || (value as { [ERROR]?: true })[ERROR] !== true) return false;
    for (let proto: object | null = Object.getPrototypeOf(value); proto !== null; proto = Object.getPrototypeOf(proto)) {
      if (Object.hasOwn(proto, 'constructor') && (proto as { constructor: unknown }).constructor !== undefined) {
        if ((proto as { constructor: { name?: unknown } }).constructor.name === this.name) return true;
      }
    }
    return false;
  }
}
// On the prototype, so no error carries it itself (nor sends it across a thread).
Object.defineProperty(ThreadloopError.prototype, ERROR, { value: true });

/** The future was cancelled before its task started (or the executor cancelled it). */
export class CancelledError extends ThreadloopError {
  override readonly code = 'ERR_CANCELLED';
  constructor(message = 'the future was cancelled', options?: ErrorOptions) {
    super(message, options);
    // Formatted now: V8 keeps an unread stack's frames, whose receivers (the call, with its
    // arguments: a large buffer, a loop handle's port) a cancelled future kept alive.
    void this.stack;
  }
}

/** A wait ran out of time (`result({ timeoutMs })`), or a task exceeded its `timeoutMs`. */
export class TimeoutError extends ThreadloopError {
  override readonly code = 'ERR_TIMEOUT';
}

/** A task's `signal` was aborted; the abort reason is in `cause`. */
export class AbortError extends ThreadloopError {
  override readonly code = 'ERR_ABORTED';
}

/** `submit` was called on an executor that is shutting down or shut down. */
export class ExecutorShutdownError extends ThreadloopError {
  override readonly code = 'ERR_EXECUTOR_SHUTDOWN';
}

/** The executor cannot run tasks any more (its initializer failed, or workers cannot start). */
export class BrokenExecutorError extends ThreadloopError {
  override readonly code = 'ERR_BROKEN_EXECUTOR';
}

/** The worker running the task died (exit, crash, out of memory) before the task settled. */
export class WorkerCrashedError extends ThreadloopError {
  override readonly code = 'ERR_WORKER_CRASHED';
  /** The worker's exit code, when it exited. */
  readonly exitCode: number | undefined;
  /** The signal that killed a child process, when one did. */
  readonly signal: string | undefined;

  constructor(
    message: string,
    details: { exitCode?: number; signal?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.exitCode = details.exitCode;
    this.signal = details.signal;
  }
}

/** The executor's queue (or a ThreadQueue) is at capacity. */
export class QueueFullError extends ThreadloopError {
  override readonly code = 'ERR_QUEUE_FULL';
}

/** The ThreadQueue was closed and holds nothing more. */
export class QueueClosedError extends ThreadloopError {
  override readonly code = 'ERR_QUEUE_CLOSED';
}

/** A task, argument or result cannot cross to another thread. */
export class TaskSerializationError extends ThreadloopError {
  override readonly code = 'ERR_TASK_SERIALIZATION';
}

/** A module task names an export the module does not have (or that is not a function). */
export class TaskNotFoundError extends ThreadloopError {
  override readonly code = 'ERR_TASK_NOT_FOUND';
}

/** The loop was stopped: it takes no more calls, and calls in flight were rejected. */
export class LoopClosedError extends ThreadloopError {
  override readonly code = 'ERR_LOOP_CLOSED';
}

/** Blocking on this future could never end: only the blocked thread could settle it. */
export class DeadlockError extends ThreadloopError {
  override readonly code = 'ERR_DEADLOCK';
}

/**
 * A future was set twice (`setResult`, `setException` on a done future), or moved to running when
 * it was not pending — concurrent.futures' `InvalidStateError`.
 */
export class InvalidStateError extends ThreadloopError {
  override readonly code = 'ERR_INVALID_STATE';
}

/** A Barrier was broken (a waiter timed out or aborted, or it was reset) while others waited. */
export class BrokenBarrierError extends ThreadloopError {
  override readonly code = 'ERR_BROKEN_BARRIER';
}

/** Every threadloop error class by name, so errors can be revived on the other side of a wire. */
export const threadloopErrorClasses = {
  ThreadloopError,
  CancelledError,
  TimeoutError,
  AbortError,
  ExecutorShutdownError,
  BrokenExecutorError,
  WorkerCrashedError,
  QueueFullError,
  QueueClosedError,
  TaskSerializationError,
  TaskNotFoundError,
  LoopClosedError,
  DeadlockError,
  InvalidStateError,
  BrokenBarrierError,
} as const;
