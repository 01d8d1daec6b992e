/**
 * The producer's side of the queue's event stream: which of our jobs are waiting, running or
 * done, and the settling of their futures — each exactly once, whatever order (or how many
 * times) BullMQ's events arrive in.
 *
 * Events can be missed (the stream is trimmed, a connection drops): a periodic check asks the
 * server about jobs not heard of for a while, and fails every waiting future once the server has
 * been unreachable for longer than `connectionTimeoutMs`. No future waits forever.
 */
import type { Job, Queue, QueueEvents, QueueEventsProducer } from 'bullmq';
import type { CancelEvent } from './cancel-event.js';
import { ProducerVoice, type TakeSignal } from './producer-voice.js';
import { ASK_EVENT, producerOf } from './start-consent.js';
import { describeConnectionError, describeReason, QueueConnectionError } from './errors.js';
import { IdleCommit } from './idle-commit.js';
import { LOOK_EVERY_MS, Silence } from './silence.js';
import { AbortError, CancelledError, WorkerCrashedError, type ExecutorStats, type Future } from './internals.js';
import { JobTally, type TallyWait } from './job-tally.js';
import { isJobResult, unpack, unpackError, type JobData, type WorkerId } from './payload.js';
import { QueuedJob, type JobOwner } from './queued-job.js';
import { RecentIds } from './recent-ids.js';

/** Settings of a tracker. @internal */
export interface TrackerSettings {
  /** This producer's id: its job ids are `<producer>-<n>`. */
  readonly producer: string;
  /** The server, printable (no password), for errors that name it. */
  readonly where: string;
  readonly connectionTimeoutMs: number;
  /** Ask the server about a job not heard of for this long. */
  readonly reconcileAfterMs: number;
  /** How often the server's health and our silent jobs are checked. */
  readonly checkEveryMs: number;
  /** Whether BullMQ's event reader can skip events (PostgreSQL): running jobs are asked about sooner (silence.ts). */
  readonly eventsMaySkip: boolean;
  readonly consentWire?: import('./pg-consent.js').ConsentWire; // where consents go first, if set
  /** Commit a job sent while the fleet has room (idle-commit.ts). */
  readonly commitWhenIdle: boolean;
}

/** The futures of one QueueExecutor and the events that settle them. @internal */
export class JobTracker implements JobOwner {
  readonly #jobs = new Map<string, QueuedJob>();
  readonly #workerOf = new WeakMap<Future<unknown>, WorkerId>();
  readonly #tally: JobTally;
  #lastContact = Date.now();
  /** Whether the server ever answered, and the last connection error: what a failure says. */
  #everReached = false;
  #lastError: unknown;
  #timer: NodeJS.Timeout | undefined;
  #lookTimer: NodeJS.Timeout | undefined;
  #checking = false;
  /** The lookup pass under way (#reconcile), if any. */
  #pass: Promise<void> | undefined;
  /** Jobs withdrawn and forgotten, for ten minutes. */
  readonly #withdrawnIds = new RecentIds<true>(600_000);
  readonly #voice: ProducerVoice;
  readonly #commit: IdleCommit;
  readonly #silence: Silence;

  constructor(
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    /** Publishes on the control stream (start-consent.ts), which workers read. */
    private readonly producer: QueueEventsProducer,
    private readonly settings: TrackerSettings,
    roomFor: (queued: number) => boolean,
  ) {
    this.#tally = new JobTally(roomFor);
    this.#voice = new ProducerVoice(producer, settings.producer, settings.consentWire);
    this.#commit = new IdleCommit(settings.commitWhenIdle);
    this.#silence = new Silence(settings.reconcileAfterMs, settings.eventsMaySkip);
    events.on('active', ({ jobId }) => this.#onActive(jobId));
    events.on(ASK_EVENT as 'active', (({ ids }: { ids: string }) => {
      for (const id of ids.split(',')) if (producerOf(id) === settings.producer) this.#onActive(id, 'stream-ask');
    }) as never);
    // A worker's ask on a faster wire (pg-consent.ts), heard at commit: the 'active' event may come later, or never.
    settings.consentWire?.listenAsks(settings.producer, (ids) => ids.split(',').forEach((id) => this.#onActive(id, 'ask')));
    events.on('completed', ({ jobId, returnvalue }) => this.#onCompleted(jobId, returnvalue));
    events.on('failed', ({ jobId, failedReason }) => void this.#onFailed(jobId, failedReason));
    events.on('removed', ({ jobId }) => this.#onRemoved(jobId));
    // Errors are connection trouble: ioredis and pg reconnect, and the health check counts the time.
    for (const emitter of [queue, events, producer] as unknown as NodeJS.EventEmitter[]) emitter.on('error', (error: unknown) => (this.#lastError = error));
  }

  // ── submitting ─────────────────────────────────────────────────────────────────────────

  /** Whether to commit a job submitted now (idle-commit.ts), if it may be (no signal, no delay). */
  commits(eligible: boolean): boolean {
    return eligible && this.#commit.commits(this.#tally.inFlight, this.#tally.workers);
  }

  /** Starts tracking a job about to be added: pending, or `committed` (running from now on). */
  track(job: QueuedJob, committed: boolean): void {
    this.#jobs.set(job.id, job);
    if (committed) {
      job.state = 'committing';
      job.startedAt = performance.now();
    }
    this.#tally.submitted(committed);
    if (this.#timer === undefined) {
      this.#lastContact = Date.now(); // the silence while nothing was in flight does not count
      this.#timer = setInterval(() => void this.#check(), this.settings.checkEveryMs).unref();
      if (this.#silence.eventsMaySkip) this.#lookTimer = setInterval(() => void this.#look(), LOOK_EVERY_MS).unref();
    }
  }

  /** The server has the job. */
  added(job: QueuedJob): void {
    this.#everReached = true;
    job.heardAt = Date.now();
    this.#lastContact = job.heardAt;
    if (job.state === 'adding') job.state = 'waiting';
    else if (job.state === 'committing') job.state = 'committed';
  }

  /** The server refused the job (or could not be reached). */
  addFailed(job: QueuedJob, error: unknown): void {
    this.#settle(job, 'failed', new QueueConnectionError(`could not add job ${job.id} ('${job.name}') to the queue: ${(error as Error)?.message ?? String(error)}`, { cause: error }));
  }

  /** The task's signal fired: withdraw a waiting job, or stop a running one wherever it runs. */
  abort(job: QueuedJob, reason: unknown): void {
    if (job.future.done()) return;
    const error = new AbortError(`task '${job.name}' was aborted`, { cause: reason });
    if (job.queued) {
      this.#settle(job, 'failed', error, 'withdrawn');
      this.#remove(job, { jobId: job.id, why: 'abort', reason: describeReason(reason) });
    } else if (job.state === 'active') {
      // The worker running it ends the task; its AbortError comes back as the job's failure.
      void this.#voice.cancel({ jobId: job.id, why: 'abort', reason: describeReason(reason) });
    }
    // (A job with a signal is never committed: idle-commit.ts.)
  }

  /**
   * `shutdown({ force: true })`: a waiting job is withdrawn; any other is aborted where it runs,
   * and its future rejects with `error` at once — there may be no worker left to answer.
   */
  endAll(error: Error): void {
    for (const job of [...this.#jobs.values()]) {
      if (job.future.done() || job.state === 'withdrawn') continue;
      if (job.queued && job.future.cancel()) continue;
      // Aborted where it runs, taken out of the queue where it waits; withdrawn: asked, it says cancel.
      this.#settle(job, 'cancelled', error, 'withdrawn');
      this.#remove(job, { jobId: job.id, why: 'abort', reason: error.message });
    }
  }

  /**
   * `future.cancel()`: take a job back if no worker has started it — which no worker does
   * without this producer's consent (start-consent.ts) — unless it counted this producer gone,
   * which ProducerVoice.canPromise rules out.
   */
  withdraw(job: QueuedJob): boolean {
    if (!job.queued) return false;
    if (!this.#voice.canPromise(job.sentAt)) return false; // a worker may have counted this producer gone
    // The future settles itself as cancelled when this returns true.
    this.#tally.ended(job, 'cancelled');
    job.state = 'withdrawn';
    this.#remove(job, { jobId: job.id, why: 'cancel', reason: 'the future was cancelled' });
    this.#tally.wake();
    return true;
  }

  // ── what the queue says ────────────────────────────────────────────────────────────────

  /** A worker took the job (its 'active' event, or the worker's ask): it starts, or is told it was cancelled. */
  #onActive(jobId: string, from: TakeSignal = 'event'): void {
    const job = this.#jobs.get(jobId);
    if (job === undefined) {
      if (this.#withdrawnIds.has(jobId)) this.#tellCancelled(jobId);
      // Settled and forgotten here (failed after connectionTimeoutMs, say): it may run.
      else if (producerOf(jobId) === this.settings.producer) this.#voice.consent(jobId, from);
      return;
    }
    job.heardAt = this.#lastContact = Date.now();
    if (job.state === 'withdrawn') {
      // Cancelled here just as a worker took it: the worker, waiting for consent, drops it.
      this.#tellCancelled(jobId);
      return;
    }
    // A committed job starts without one (a worker that does not read the go-ahead asks). Said
    // unasked, it cost a job alone a tenth of its trip. (Taken again after a stall: 'active', one more.)
    if (from !== 'event' || (job.state !== 'committing' && job.state !== 'committed')) this.#voice.consent(jobId, from);
    if (job.state === 'active') return; // a retry after a stall: still running, as far as the future goes
    const wasQueued = job.queued; // (else committed: running already)
    job.state = 'active';
    job.startedAt = performance.now();
    this.#tally.taken(wasQueued, job.startedAt - job.submittedAt);
    this.#commit.taken(job.startedAt - job.submittedAt);
  }

  #onCompleted(jobId: string, returnvalue: unknown): void {
    const job = this.#jobs.get(jobId);
    if (job === undefined || job.state === 'settled') return;
    if (job.state === 'withdrawn') return this.#forget(job);
    if (!isJobResult(returnvalue)) {
      this.#settle(job, 'failed', new WorkerCrashedError(`job ${jobId} was completed by something other than a threadloop worker`));
      return;
    }
    let value: unknown;
    try {
      value = unpack(returnvalue.r);
    } catch (error) {
      this.#settle(job, 'failed', error);
      return;
    }
    this.#workerOf.set(job.future, returnvalue.w);
    this.#settle(job, 'completed', value);
  }

  async #onFailed(jobId: string, failedReason: string, known?: Job): Promise<void> {
    const job = this.#jobs.get(jobId);
    if (job === undefined || job.state === 'settled') return;
    if (job.state === 'withdrawn') return this.#forget(job);
    job.heardAt = Date.now();
    // (Unreachable right now: settled below from the reason alone.)
    const stored: Job | undefined = known ?? (await this.queue.getJob(jobId).catch(() => undefined));
    const packed = (stored?.data as JobData | undefined)?.e;
    let error: unknown;
    if (packed !== undefined) {
      try {
        error = unpackError(packed);
      } catch (decodeFailure) {
        error = decodeFailure;
      }
      if (error instanceof Error) this.#workerOf.set(job.future, (error as Error & { worker: WorkerId }).worker);
    } else {
      // Failed by BullMQ itself: stalled more often than maxStalledCount allows, most often.
      error = new WorkerCrashedError(`job ${jobId} ('${job.name}') failed in the queue: ${failedReason}`);
    }
    this.#settle(job, 'failed', error);
  }

  #onRemoved(jobId: string): void {
    const job = this.#jobs.get(jobId);
    if (job?.state === 'withdrawn') this.#forget(job);
    if (job === undefined || job.state === 'settled') return;
    this.#settle(job, 'cancelled', new CancelledError(`job ${jobId} ('${job.name}') was removed from the queue`));
  }

  /** Resolves when a job may be sent: after a word on the control stream, if none for a second (see ProducerVoice.canPromise). */
  speaking(): Promise<void> {
    return this.#voice.alive();
  }

  /** Whether the server has ever answered this producer. */
  get everReached(): boolean {
    return this.#everReached;
  }

  /** The server answered (the event stream is read). */
  markReached(): void {
    this.#everReached = true;
  }

  /** Tells the workers this producer is gone, after its cancels. */
  sayBye(): Promise<void> {
    return this.#voice.bye();
  }

  // ── settling ───────────────────────────────────────────────────────────────────────────

  #settle(job: QueuedJob, outcome: 'completed' | 'failed' | 'cancelled', valueOrError: unknown, next: 'settled' | 'withdrawn' = 'settled'): void {
    if (job.state === 'settled' || job.future.done()) return;
    if (job.state !== 'withdrawn') this.#tally.ended(job, outcome);
    job.state = next;
    if (next === 'settled') this.#jobs.delete(job.id);
    job.unlisten?.();
    if (outcome === 'completed') job.future.resolve(valueOrError);
    else if (outcome === 'failed') job.future.reject(valueOrError);
    else job.future.cancelWith(valueOrError);
    this.#tally.wake();
  }

  /**
   * Removes a withdrawn job from the server. One a worker holds already (it waits for this
   * producer's consent) is cancelled there, and stays known here as withdrawn until it is
   * finished on the server: asked about it again, this producer must say cancel, never start.
   */
  #remove(job: QueuedJob, cancel: CancelEvent): void {
    const removeIt = async () => {
      await job.added;
      if (job.sentAt === 0) return this.#forget(job); // withdrawn before it was sent: never added
      // Workers are told in any case: one may hold the job already (waiting for consent), and
      // BullMQ 6.7's PostgreSQL remove() can delete a job a worker has just taken.
      await Promise.all([
        this.#voice.cancel(cancel),
        this.queue.remove(job.id).then((removed) => removed === 1 && this.#forget(job), () => {}),
      ]);
    };
    this.#voice.track(removeIt());
  }

  /**
   * A withdrawn job is off the server (removed, or failed by the worker it was cancelled on). Its
   * id is kept a while: BullMQ 6.7's PostgreSQL remove() can delete a job a worker has just
   * taken, and that worker still asks whether it may start it.
   */
  #forget(job: QueuedJob): void {
    if (job.state !== 'withdrawn') return;
    job.state = 'settled';
    this.#jobs.delete(job.id);
    this.#withdrawnIds.set(job.id, true);
  }

  #tellCancelled(jobId: string): void {
    void this.#voice.cancel({ jobId, why: 'cancel', reason: 'the future was cancelled' });
  }

  // ── waiting for room, drained, idle ────────────────────────────────────────────────────

  waitFor(until: TallyWait): Promise<void> {
    return this.#tally.waitFor(until);
  }

  /** Lets room waiters re-check (the executor closed). */
  wakeAll(): void {
    this.#tally.wakeAll();
  }

  get queued(): number {
    return this.#tally.queued;
  }

  /** Waiting futures, for `shutdown({ cancelFutures: true })`. */
  waitingFutures(): Future<unknown>[] {
    return [...this.#jobs.values()].filter((job) => job.queued).map((job) => job.future);
  }

  workerOf(future: Future<unknown>): WorkerId | undefined {
    return this.#workerOf.get(future);
  }

  stats(): ExecutorStats {
    return this.#tally.stats();
  }

  stop(): void {
    clearInterval(this.#timer);
    clearInterval(this.#lookTimer);
    this.#timer = this.#lookTimer = undefined;
  }

  // ── the periodic check ─────────────────────────────────────────────────────────────────

  async #check(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      // Not past the deadline: a server that does not answer fails the futures at connectionTimeoutMs, not seconds after.
      const left = this.settings.connectionTimeoutMs - (Date.now() - this.#lastContact);
      // (+5 ms: a timer may fire a little before Date.now() says its time has come.)
      const reachable = await withTimeout(this.queue.getWorkersCount(), Math.max(100, Math.min(this.settings.checkEveryMs * 2, left + 5)));
      const now = Date.now();
      if (reachable === undefined) {
        if (now - this.#lastContact >= this.settings.connectionTimeoutMs) this.#failAll();
        return;
      }
      this.#tally.workers = reachable;
      this.#everReached = true;
      this.#lastError = undefined; // an error before this contact is no reason for a later failure
      this.#lastContact = now;
      void this.#voice.alive();
      await this.#reconcile(now);
    } catch {
      if (Date.now() - this.#lastContact >= this.settings.connectionTimeoutMs) this.#failAll();
    } finally {
      this.#checking = false;
      if (this.#jobs.size === 0) this.stop();
    }
  }

  /** Between checks, where events can be skipped: asks about running jobs silent for long (silence.ts). */
  async #look(): Promise<void> {
    if (this.#checking) return;
    // (A server that does not answer: the next check counts its silence.)
    await this.#reconcile(Date.now(), true).catch(() => {});
  }

  /**
   * Asks the server about jobs not heard of for a while: their events may have been missed. One
   * pass at a time: a look (running jobs only) skips while one is under way; a check's full pass
   * waits for it, then makes its own. A pass waits for its lookups at most twice the check's
   * period: one the server never answers (a connection gone half-open) must not stop every later
   * pass, nor hold the check past its `connectionTimeoutMs`.
   */
  async #reconcile(now: number, runningOnly = false): Promise<void> {
    if (this.#pass !== undefined) {
      if (runningOnly) return;
      await this.#pass;
    }
    const pass = withTimeout(this.#lookUp(now, runningOnly), Math.max(1_000, this.settings.checkEveryMs * 2)).then(() => {});
    this.#pass = pass;
    try {
      await pass;
    } finally {
      if (this.#pass === pass) this.#pass = undefined;
    }
  }

  async #lookUp(now: number, runningOnly: boolean): Promise<void> {
    const silent = this.#silence.due(this.#jobs.values(), now, this.#silence.eventsMaySkip ? this.#tally.medianRunMs() : 0, runningOnly);
    await Promise.allSettled(silent.map(async (job) => {
      job.heardAt = now;
      const stored = await this.queue.getJob(job.id);
      if (job.state === 'withdrawn') {
        if (stored === undefined || (stored.finishedOn ?? 0) > 0) this.#forget(job);
        else this.#remove(job, { jobId: job.id, why: 'cancel', reason: 'the future was cancelled' }); // a cancel event missed?
        return;
      }
      if (stored === undefined) {
        this.#settle(job, 'failed', new QueueConnectionError(`job ${job.id} ('${job.name}') is gone from the queue server: its data was lost (a server restarted without persistence?)`));
      } else if (stored.finishedOn !== undefined && stored.finishedOn > 0) {
        if (stored.processedOn !== undefined && stored.processedOn > 0) job.ranMs = Math.max(0, stored.finishedOn - stored.processedOn);
        if (stored.failedReason !== undefined && stored.failedReason !== null && stored.returnvalue === null) await this.#onFailed(job.id, stored.failedReason, stored);
        else this.#onCompleted(job.id, stored.returnvalue);
      } else if (stored.processedOn !== undefined && stored.processedOn > 0 && (job.queued || job.state === 'committed')) {
        this.#onActive(job.id);
      }
    }));
  }

  /** The server has not answered for connectionTimeoutMs: every future fails, saying where, why, and what may still happen. */
  #failAll(): void {
    const { where, connectionTimeoutMs: ms } = this.settings;
    const server = this.#everReached ? `lost the queue server ${where} for more than ${ms} ms` : `could not reach the queue server ${where} within ${ms} ms`;
    const why = describeConnectionError(this.#lastError);
    for (const job of [...this.#jobs.values()]) {
      const fate = job.sentAt === 0 ? 'it was never sent' : 'it may still run once the server is back';
      this.#settle(job, 'failed', new QueueConnectionError(`${server} (connectionTimeoutMs)${why}; job ${job.id} ('${job.name}'): ${fate}`, { cause: this.#lastError }));
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
