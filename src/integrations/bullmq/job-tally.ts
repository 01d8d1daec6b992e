/**
 * How many of a producer's jobs wait, run and have ended — what `stats()` reports — and the
 * waits on those numbers: room under `maxQueue`, `drained()` (none waiting), `idle()` (none in
 * flight).
 */
import { Samples, type ExecutorStats } from './internals.js';
import type { QueuedJob } from './queued-job.js';

/** What a wait is for. @internal */
export type TallyWait = 'room' | 'drained' | 'idle';

type Waiter = { readonly until: TallyWait; readonly resolve: () => void };

/** The counts of one QueueExecutor's jobs. @internal */
export class JobTally {
  #queued = 0;
  #running = 0;
  #completed = 0;
  #failed = 0;
  #cancelled = 0;
  /** Workers connected to the queue, as last counted. */
  workers = 0;
  readonly #runTime = new Samples();
  readonly #waitTime = new Samples();
  #waiters: Waiter[] = [];

  constructor(
    /** Whether `queued` jobs waiting leave room for one more (maxQueue). */
    private readonly roomFor: (queued: number) => boolean,
  ) {}

  get queued(): number {
    return this.#queued;
  }

  /** Jobs waiting or running. */
  get inFlight(): number {
    return this.#queued + this.#running;
  }

  /** A job was submitted: waiting, or (committed) running from the start. */
  submitted(running: boolean): void {
    if (running) this.#running++;
    else this.#queued++;
  }

  /** A job was heard taken `waitMs` after its submit; `wasQueued`: it counted as waiting until now. */
  taken(wasQueued: boolean, waitMs: number): void {
    if (wasQueued) {
      this.#queued--;
      this.#running++;
    }
    this.#waitTime.add(waitMs);
    this.wake();
  }

  /** Moves a job out of the waiting/running counts into an outcome's (before its state changes). */
  ended(job: QueuedJob, outcome: 'completed' | 'failed' | 'cancelled'): void {
    if (job.queued) this.#queued--;
    else if (job.running) {
      this.#running--;
      // (A job found finished by a lookup counts its worker's measure: counting the lookup's delay
      // would feed the silence rule's median, which sets when the next lookups come: silence.ts.)
      this.#runTime.add(job.ranMs ?? performance.now() - job.startedAt);
    }
    if (outcome === 'completed') this.#completed++;
    else if (outcome === 'failed') this.#failed++;
    else this.#cancelled++;
  }

  /** Resolves once the counts allow `until`. */
  waitFor(until: TallyWait): Promise<void> {
    if (this.#reached(until)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ until, resolve }));
  }

  /** Resolves the waits the counts now allow. */
  wake(): void {
    if (this.#waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (this.#reached(waiter.until)) waiter.resolve();
      else still.push(waiter);
    }
    this.#waiters = still;
  }

  /** Lets every waiter re-check (the executor closed). */
  wakeAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  /** The median of the recent jobs' run (from heard taken to settled), in ms; 0 before any. */
  medianRunMs(): number {
    return this.#runTime.summary().p50;
  }

  stats(): ExecutorStats {
    return {
      workers: this.workers,
      busy: Math.min(this.workers, this.#running),
      queued: this.#queued,
      running: this.#running,
      completed: this.#completed,
      failed: this.#failed,
      cancelled: this.#cancelled,
      runTime: this.#runTime.summary(),
      waitTime: this.#waitTime.summary(),
    };
  }

  #reached(until: TallyWait): boolean {
    if (until === 'room') return this.roomFor(this.#queued);
    if (until === 'drained') return this.#queued === 0;
    return this.#queued === 0 && this.#running === 0;
  }
}
