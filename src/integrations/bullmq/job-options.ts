/**
 * Per-task BullMQ job options (retries, backoff, priority). A Task's own options are the ones
 * every executor understands (`signal`, `timeoutMs`); these mean something only to a queue, so
 * they are attached beside the task rather than inside it.
 */
import type { JobsOptions } from 'bullmq';
import { describe, toTask, type AnyFunction, type Runnable, type Task } from './internals.js';

/** What `withJobOptions` may set. */
export interface QueueJobOptions {
  /**
   * How many times the job may run when its task throws (default 1: a task error is final).
   * A worker that dies mid-job is another matter: BullMQ's stall check runs the job again
   * (see `maxStalledCount` of the worker), so delivery is at least once.
   */
  attempts?: number;
  /** Wait between attempts, in milliseconds (doubling each time with `backoff: 'exponential'`). */
  backoffMs?: number;
  /** `'fixed'` (default) or `'exponential'`. */
  backoff?: 'fixed' | 'exponential';
  /** BullMQ priority: 1 is the highest; jobs without one go first. */
  priority?: number;
}

const attached = new WeakMap<Task, JobsOptions>();

/**
 * The same task, carrying BullMQ job options for a QueueExecutor (other executors ignore them).
 * Set them last: `task.with(...)` makes a task without them.
 *
 * @example
 * const retried = withJobOptions(images.thumbnail.with({ timeoutMs: 5000 }), { attempts: 3, backoffMs: 1000 });
 * await executor.submit(retried, 'cat.jpg', 256);
 */
export function withJobOptions<F extends AnyFunction>(task: Runnable<F>, options: QueueJobOptions): Task<F> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`withJobOptions expects an options object, got ${describe(options)}`);
  const { attempts, backoffMs, backoff = 'fixed', priority } = options;
  for (const [name, value, min] of [['attempts', attempts, 1], ['backoffMs', backoffMs, 0], ['priority', priority, 1]] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= min)) throw new RangeError(`withJobOptions: ${name} must be an integer >= ${min}, got ${describe(value)}`);
  }
  if (backoff !== 'fixed' && backoff !== 'exponential') throw new TypeError(`withJobOptions: backoff must be 'fixed' or 'exponential', got ${describe(backoff)}`);
  const copy = toTask(task).with({});
  attached.set(copy, {
    ...(attempts === undefined ? {} : { attempts }),
    ...(backoffMs === undefined ? {} : { backoff: { type: backoff, delay: backoffMs } }),
    ...(priority === undefined ? {} : { priority }),
  });
  return copy;
}

/** The job options attached to `task`, if any. @internal */
export function jobOptionsOf(task: Task): JobsOptions {
  return attached.get(task) ?? {};
}
