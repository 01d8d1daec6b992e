/**
 * Which of a producer's jobs to ask the server about: those not heard of for a while, whose
 * events may have been missed (a stream trimmed, a connection dropped — or, on PostgreSQL, one
 * that BullMQ 6.7's event reader skipped: it pages by id, and ids commit out of order).
 */
import type { QueuedJob } from './queued-job.js';

/** How often (ms) running jobs are looked over for silent ones, where events can be skipped. */
export const LOOK_EVERY_MS = 50;
/** Where events can be skipped, a running job is asked about at least this often (ms), however long it runs. */
const LONG_QUIET_MS = 5_000;
/** At most this many jobs are asked about at once. */
const AT_ONCE = 100;

/** A producer's rule for silent jobs. @internal */
export class Silence {
  constructor(
    /** Ask about a job not heard of for this long (ms). */
    private readonly reconcileAfterMs: number,
    /** Whether BullMQ's event reader can skip events (PostgreSQL): running jobs are asked about sooner. */
    readonly eventsMaySkip: boolean,
  ) {}

  /**
   * The jobs to ask about now, at most AT_ONCE (the next pass takes the next: those asked about
   * are heard of), given the median of the jobs' recent runs: running ones only for the looks
   * between checks (`runningOnly`); at a check pending and withdrawn ones first, which the looks
   * leave to it, then running ones.
   *
   * A running job whose completion the reader skipped would wait out the whole
   * `reconcileAfterMs` (on PostgreSQL 9-13% of no-op jobs with 64 in flight, each holding its
   * place in the window half a second: most of the window's time, measured). Where events can be
   * skipped, a running job (taken, or committed: idle-commit.ts) is asked about once silent for
   * 20 times the median run (at least 100 ms) — and, as it runs on, for half as long as it has run
   * (a long job is asked about at 100, 200, 400 ms … of its run, then every LONG_QUIET_MS, not
   * `reconcileAfterMs`). A job still pending needs no such haste: its worker asks for its
   * consent, which says it was taken.
   */
  due(jobs: Iterable<QueuedJob>, now: number, medianRunMs: number, runningOnly: boolean): QueuedJob[] {
    const soon = Math.max(100, 20 * medianRunMs);
    const clock = performance.now();
    const running: QueuedJob[] = [];
    const others: QueuedJob[] = [];
    for (const job of jobs) {
      if (job.sending || job.state === 'settled') continue;
      const quick = this.eventsMaySkip && job.running;
      if (runningOnly && !quick) continue;
      const quiet = quick ? Math.min(LONG_QUIET_MS, Math.max(soon, (clock - job.startedAt) / 2)) : this.reconcileAfterMs;
      if (now - job.heardAt <= quiet) continue;
      (job.running ? running : others).push(job);
      if (runningOnly && running.length === AT_ONCE) break;
    }
    return [...others, ...running].slice(0, AT_ONCE);
  }
}
