/**
 * A task's queue options (`task.with({ attempts, backoff, priority })`, checked where every task
 * option is, in core/task.ts) as BullMQ job options. They ride on the task like `signal` and
 * `timeoutMs`; local executors refuse them at the call, since they run each call once.
 */
import type { JobsOptions } from 'bullmq';
import type { Task } from './internals.js';

/** BullMQ's options for one job of `task`. @internal */
export function jobOptionsOf(task: Task): JobsOptions {
  const { attempts, backoff, priority } = task.options;
  if (attempts === undefined && backoff === undefined && priority === undefined) return {};
  return {
    ...(attempts === undefined ? {} : { attempts }),
    ...(backoff === undefined ? {} : { backoff: typeof backoff === 'number' ? { type: 'fixed', delay: backoff } : { type: backoff.type, delay: backoff.delayMs } }),
    ...(priority === undefined ? {} : { priority }),
  };
}
