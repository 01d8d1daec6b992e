/**
 * A submitted task as the scheduler tracks it, from submit to settled. It is also the future's
 * link to the scheduler: `cancel()`, `state` and `resultSync()` on the future ask it.
 */
import type { TransferListItem } from 'node:worker_threads';
import type { Task } from '../core/task.js';
import type { Future, FutureLink } from '../core/future.js';
import type { PoolWorker } from './pool-worker.js';

/** What a record needs from the scheduler that owns it. */
export interface RecordOwner {
  withdraw(record: TaskRecord): boolean;
  waitSync(future: Future<unknown>, deadline: number): void;
}

export class TaskRecord implements FutureLink {
  /** Waiting in the scheduler's queue (false once sent, withdrawn or settled). */
  queued = false;
  /** The worker it was sent to, while it is there. */
  worker: PoolWorker | undefined = undefined;
  /** Its arbitration slot on that worker, or -1. */
  slot = -1;
  /** When it was submitted, then (once sent) when it was sent: one field, one boxed number. */
  at: number;
  /** Set when the task was aborted or timed out while running: the error it will settle with. */
  stopError: unknown = undefined;
  /** The abort or timeout timer. */
  timer: NodeJS.Timeout | undefined = undefined;
  /** The listener on the task's signal. */
  onAbort: (() => void) | undefined = undefined;

  constructor(
    readonly owner: RecordOwner,
    readonly id: number,
    readonly task: Task,
    readonly args: unknown[],
    readonly flags: number,
    /** Moved, not copied, with the call; such a task cannot be re-sent once it was sent. */
    readonly transfer: readonly TransferListItem[] | undefined,
    readonly future: Future<unknown>,
    submittedAt: number,
    readonly callerStack: Error | undefined,
  ) {
    this.at = submittedAt;
  }

  /** Abortable tasks (a signal or a timeout) run alone on their worker. */
  get exclusive(): boolean {
    return this.task.options.signal !== undefined || this.task.options.timeoutMs !== undefined;
  }

  withdraw(): boolean {
    return this.owner.withdraw(this);
  }

  hasStarted(): boolean {
    return this.worker !== undefined && this.worker.hasStarted(this);
  }

  waitSync(future: Future<unknown>, deadline: number): void {
    this.owner.waitSync(future, deadline);
  }
}
