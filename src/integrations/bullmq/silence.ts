/**
 * Which of a producer's jobs to ask the server about: those not heard of for a while, whose
 * events may have been missed (a stream trimmed, a connection dropped — or, on PostgreSQL, one
 * that BullMQ 6.7's event reader skipped: it pages by id, and ids commit out of order).
 */
import type { QueuedJob } from './queued-job.js';

/** How often (ms) running jobs are looked over for silent ones, where events can be skipped. */
export const LOOK_EVERY_MS = 50;

/** A producer's rule for silent jobs. @internal */
export class Silence {
  constructor(
    /** Ask about a job not heard of for this long (ms). */
    private readonly reconcileAfterMs: number,
    /** Whether BullMQ's event reader can skip events (PostgreSQL): running jobs are asked about sooner. */
    readonly eventsMaySkip: boolean,
  ) {}

  /**
   * The jobs to ask about now (at most 100 at a time), given the median of the jobs' recent runs.
   * A running job whose completion the reader skipped would wait out the whole `reconcileAfterMs`
   * (on PostgreSQL 9-13% of no-op jobs with 64 in flight, each holding its place in the window
   * half a second: most of the window's time, measured); where events can be skipped, a running
   * job is asked about once silent for 20 times the median run, between 100 ms and
   * `reconcileAfterMs` — and, as it runs on, for half as long as it has run (a long job is asked
   * about at 100, 200, 400 ms … not every 100). A job not yet heard taken needs no such haste: its
   * worker asks for its consent, which says it was taken.
   */
  due(jobs: Iterable<QueuedJob>, now: number, medianRunMs: number): QueuedJob[] {
    const soon = Math.max(100, 20 * medianRunMs);
    const clock = performance.now();
    const due: QueuedJob[] = [];
    for (const job of jobs) {
      if (job.sending || job.state === 'settled') continue;
      const quiet = this.eventsMaySkip && job.state === 'active' ? Math.min(this.reconcileAfterMs, Math.max(soon, (clock - job.startedAt) / 2)) : this.reconcileAfterMs;
      if (now - job.heardAt > quiet) due.push(job);
      if (due.length === 100) break;
    }
    return due;
  }
}
