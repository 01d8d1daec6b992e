/**
 * Committing a job at submit, when the fleet has room for it.
 *
 * A job waits for its producer's consent before it starts (start-consent.ts), so that
 * `future.cancel()` can answer at once and truthfully until a worker takes it. The consent is a
 * trip through the server — the producer hears the take, the worker hears the consent — that the
 * job's own trip pays in full when a worker is idle: 0.4-0.5 ms of a 1.5-2 ms no-op job alone on
 * Redis, 0.5 of 3 on PostgreSQL (scratch runs, a worker that skipped the wait against one that
 * did). What it buys there is little: a worker with a free slot takes a job within a millisecond
 * or two, so a cancel() would have to come within that time to find it waiting — as with an idle
 * local pool, whose thread picks a call up at once (CPython's executors turn such a future
 * running as soon as it is handed on).
 *
 * So a producer with nothing else in flight, whose last job was taken at once and lately, and
 * whose last check found workers on the queue, commits the next: the job carries a go-ahead
 * (`JobData.g`), its worker starts it without waiting for consent, and its future is running from
 * the submit (`cancel()` false; `timeoutMs` counts from its start on the worker, as any job's).
 * Any job sent while others are in flight waits for its consent as before — with jobs in flight a
 * worker's take-ahead hides the trip (JobHolding), and jobs queued behind others are the ones a
 * cancel() can still take back. So does a job whose task has a signal: its abort must be able to
 * take it back while it waits (a committed job's could only ask BullMQ to remove it, which on
 * Redis also removes a job finished a moment ago and on PostgreSQL one a worker has just taken),
 * and a delayed job. `commitWhenIdle: false` commits none. No consent is said for a committed
 * job unless a worker asks (one of an older version, which does not read the go-ahead, does).
 */

/** A take heard this soon (ms) after its submit counts as one at once: a worker had a free slot. */
const AT_ONCE_MS = 10;
/** … if heard this recently (ms): what a fleet had room for a while ago says little of now. */
const LATELY_MS = 5_000;

/** A producer's decision to commit a job at submit. @internal */
export class IdleCommit {
  /** Date.now() when the last take was heard, and how long that job had waited (ms). */
  #lastTakeAt = 0;
  #lastWaitMs = Number.POSITIVE_INFINITY;

  constructor(private readonly enabled: boolean) {}

  /** A job of this producer was heard taken, `waitMs` after its submit. */
  taken(waitMs: number): void {
    this.#lastTakeAt = Date.now();
    this.#lastWaitMs = waitMs;
  }

  /** Whether to commit a job submitted now, with `inFlight` jobs of this producer unsettled and `workers` on the queue at the last check. */
  commits(inFlight: number, workers: number): boolean {
    return this.enabled && inFlight === 0 && workers > 0 && this.#lastWaitMs <= AT_ONCE_MS && Date.now() - this.#lastTakeAt <= LATELY_MS;
  }
}
