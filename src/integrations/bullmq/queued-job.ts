/**
 * One job a QueueExecutor submitted, as its Future sees it: the FutureLink that gives
 * `future.cancel()`, `future.state` and `future.resultSync()` their meaning for work that waits
 * in a queue on a server instead of in this process.
 */
import { DeadlockError, type Future, type FutureLink, type UnobservedFailures } from './internals.js';

/**
 * Where a job is, as far as its producer knows:
 *
 *     adding ─────▶ waiting ────▶ active ──▶ settled
 *     committing ─▶ committed ──▶ ┘
 *        └─────────────┴──────────────▶ withdrawn (cancelled here; removing it from the queue) ──▶ settled
 *
 * `adding`/`committing`: the add is on its way to the server. A committed job (idle-commit.ts)
 * starts without waiting for consent: running as far as its future goes, though no worker may
 * have taken it yet.
 */
export type QueuedJobState = 'adding' | 'waiting' | 'committing' | 'committed' | 'active' | 'withdrawn' | 'settled';

/** What a job's link asks of the executor that tracks it. @internal */
export interface JobOwner {
  withdraw(job: QueuedJob): boolean;
}

/** A submitted job and its future. @internal */
export class QueuedJob implements FutureLink {
  state: QueuedJobState = 'adding';
  /** `performance.now()` at submit, and when a worker started it (0 before). */
  readonly submittedAt = performance.now();
  startedAt = 0;
  /**
   * How long it ran by its worker's clock (`finishedOn - processedOn`), when a lookup found it
   * finished: the time from heard taken to that lookup is the lookup's delay, not the run's.
   */
  ranMs: number | undefined = undefined;
  /** `Date.now()` when its add was sent to the server (0 before): only then can a worker take it. */
  sentAt = 0;
  /** `Date.now()` when anything was last heard of this job (for reconciling missed events). */
  heardAt = Date.now();
  /** Settles once the add is done (or given up): a withdrawal removes the job only after. */
  added: Promise<void> = Promise.resolve();
  /** Removes the abort listener from the task's signal. */
  unlisten: (() => void) | undefined = undefined;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly future: Future<unknown>,
    readonly owner: JobOwner,
    readonly unobservedFailures: UnobservedFailures,
  ) {}

  /** Whether the job still counts as waiting in the queue (pending: cancel() can take it back). */
  get queued(): boolean {
    return this.state === 'adding' || this.state === 'waiting';
  }

  /** Whether the job counts as running: taken by a worker, or committed to start without consent. */
  get running(): boolean {
    return this.state === 'active' || this.state === 'committing' || this.state === 'committed';
  }

  /** Whether its add is still to reach the server (until then, no worker can have it, nor the server know it). */
  get sending(): boolean {
    return this.state === 'adding' || this.state === 'committing';
  }

  withdraw(): boolean {
    return this.owner.withdraw(this);
  }

  hasStarted(): boolean {
    return this.running;
  }

  waitSync(): void {
    throw new DeadlockError(
      `resultSync() cannot wait for job ${this.id} ('${this.name}'): its result arrives from the queue server ` +
        "through this thread's event loop, which blocking would stop; await the future (or future.result({ timeoutMs })) instead",
    );
  }
}
