/**
 * Age-based retention of finished jobs on PostgreSQL, swept in batches by the producer instead of
 * applied by BullMQ at every completion.
 *
 * BullMQ 6.7 applies `removeOnComplete: { age }` (and `removeOnFail`) inside its completion
 * function, with a DELETE whose job state is a parameter. PostgreSQL caches a generic plan for it
 * in each session after five runs, and a generic plan cannot use the index of finished jobs (a
 * partial index, on the finished states): a session whose first completions came while the queue
 * was small keeps a plan that reads every job of the queue at each completion. Measured: 1-2 ms of
 * the server's time per completion with 2,500 jobs kept, and it grows with every job kept (ten
 * minutes at 500 jobs/s keeps 300,000). So BullMQ is told to keep them, and `Queue.clean` — one
 * query planned each time, with that index — removes those past their age, every few seconds.
 */
import type { JobsOptions, KeepJobs, Queue } from 'bullmq';

/** How long finished jobs are kept (ms), per final state, where this module sweeps them. @internal */
export interface SweptAges {
  readonly completed?: number;
  readonly failed?: number;
}

/** Sweeps at most this often, and at least this often for long ages (ms). */
const MIN_EVERY_MS = 250;
const MAX_EVERY_MS = 5_000;

/**
 * Splits job options into those BullMQ applies and the age-based retention swept here: an age
 * alone (`{ age }`) is swept; a count (`{ count }`, a number), `true` or `false` stay BullMQ's. @internal
 */
export function sweptRetention(options: JobsOptions): { options: JobsOptions; ages: SweptAges } {
  const ageOf = (keep: JobsOptions['removeOnComplete']): number | undefined => {
    if (typeof keep !== 'object' || keep === null) return undefined;
    const { age, count } = keep as Partial<Extract<KeepJobs, { age: number }>>;
    return typeof age === 'number' && age >= 0 && count === undefined ? age * 1000 : undefined;
  };
  const completed = ageOf(options.removeOnComplete);
  const failed = ageOf(options.removeOnFail);
  return {
    options: {
      ...options,
      ...(completed === undefined ? {} : { removeOnComplete: false }),
      ...(failed === undefined ? {} : { removeOnFail: false }),
    },
    ages: { ...(completed === undefined ? {} : { completed }), ...(failed === undefined ? {} : { failed }) },
  };
}

/** Removes a queue's finished jobs once past their age, every few seconds while started. @internal */
export class RetentionSweeper {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly queue: Queue,
    private readonly ages: SweptAges,
  ) {}

  /** Sweeps now and then every half the shortest age (between 250 ms and 5 s); nothing to sweep: does nothing. */
  start(): void {
    const shortest = Math.min(this.ages.completed ?? Infinity, this.ages.failed ?? Infinity);
    if (shortest === Infinity || this.#timer !== undefined) return;
    let sweeping = false; // (a sweep slower than the period is not overlapped)
    const sweep = (): void => {
      if (sweeping) return;
      sweeping = true;
      void this.#sweep().finally(() => (sweeping = false));
    };
    this.#timer = setInterval(sweep, Math.min(MAX_EVERY_MS, Math.max(MIN_EVERY_MS, shortest / 2))).unref();
    sweep();
  }

  /** Stops sweeping. (A sweep under way is not waited for: closing the queue ends it, and a server away must not hold up a close.) */
  stop(): void {
    clearInterval(this.#timer);
  }

  async #sweep(): Promise<void> {
    for (const state of ['completed', 'failed'] as const) {
      const age = this.ages[state];
      if (age === undefined) continue;
      // All that is due (limit 0: BullMQ removes 10,000 a query until fewer come). A server away
      // now is swept next time: what is due stays due.
      await this.queue.clean(age, 0, state).catch(() => {});
    }
  }
}
