/**
 * startQueueWorker: a process's share of a fleet. It takes jobs from a BullMQ queue — only those
 * of the task modules it was started with — and runs them on a local thread (or process) pool, as
 * many at once as the pool can run. No code comes from the queue: a job names a task of a module
 * this worker registered, and carries arguments.
 */
import { randomBytes } from 'node:crypto';
import * as bullmq from 'bullmq';
import type { Job } from 'bullmq';
import { reachable, resolveBackend } from './backend.js';
import { CANCEL_EVENT, type CancelEvent } from './cancel-event.js';
import { JobStop } from './job-stop.js';
import { RecentIds } from './recent-ids.js';
import { ALIVE_EVENT, ASK_EVENT, BYE_EVENT, controlQueue, PROBE_EVENT, publish, START_EVENT } from './start-consent.js';
import { JobHolding, RunSlots, StartConsents } from './worker-consents.js';
import { abortableJob, cancelError, checkOptions, unpackArgs, type QueueWorkerOptions } from './worker-options.js';
import {
  AbortError,
  after,
  checkTimeout,
  describe,
  LOAD_MODULE,
  ProcessPoolExecutor,
  taskModule,
  TaskNotFoundError,
  TaskSerializationError,
  ThreadPoolExecutor,
  type Executor,
  type Task,
  type Timer,
} from './internals.js';
import { describeConnectionError, QueueConnectionError } from './errors.js';
import { pack, packError, thisWorker, type JobData, type JobResult, type WorkerId } from './payload.js';

export type { QueueWorkerOptions } from './worker-options.js';

/** What a worker has done so far. */
export interface QueueWorkerStats {
  /** Jobs started here and not finished (not those still waiting for their producer's consent). */
  readonly running: number;
  readonly completed: number;
  readonly failed: number;
  /** Jobs handed back to the queue unfinished at shutdown (each counted once, when the server took it back). */
  readonly requeued: number;
}

/** A running queue worker. */
export interface QueueWorker {
  /** This process: host and pid, as reported with results and errors. */
  readonly id: WorkerId;
  stats(): QueueWorkerStats;
  /**
   * Stops taking jobs, hands back to the queue at once those not started yet (and any BullMQ
   * still takes while it stops), lets running ones finish within `graceMs` (any length;
   * `Infinity`: as long as they take), hands the rest back, and closes the connections (and the
   * worker's own pool).
   */
  close(options?: { graceMs?: number | undefined }): Promise<void>;
}

/** One job this worker holds: waiting for its consent or a run slot, or running. */
interface Running {
  readonly job: Job;
  /** Fired by its producer's cancel or abort, or by the hand-back at close. */
  readonly stop: JobStop;
  /** Set by shutdown (at once for a job not started, after the grace for a running one): the job goes back to the queue instead of failing. */
  handBack: boolean;
  /** It holds a run slot: consented to and started (before, it only waits). */
  started: boolean;
}

/**
 * Starts taking jobs from `queue` for the task modules in `tasks`. Resolves once connected.
 *
 * @example
 * const worker = await startQueueWorker({
 *   queue: 'thumbs',
 *   connection: 'redis://127.0.0.1:6379',
 *   tasks: { images: new URL('./images.js', import.meta.url) },
 *   threads: 4,
 * });
 * process.once('SIGTERM', () => worker.close());
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const settings = checkOptions(options);
  const backend = resolveBackend(options.connection, 'startQueueWorker');
  const modules = new Map(Object.entries(options.tasks).map(([name, url]) => [name, taskModule(url) as unknown as Record<string, Task>]));
  const ownPool = options.executor === undefined;
  const executor: Executor =
    options.executor ??
    (options.processes !== undefined
      ? new ProcessPoolExecutor({ maxWorkers: options.processes, abortGraceMs: settings.abortGraceMs, name: `queue-${options.queue}` })
      : new ThreadPoolExecutor({ maxWorkers: settings.poolSize, abortGraceMs: settings.abortGraceMs, name: `queue-${options.queue}`, idleSpinMs: 0 }));
  // idleSpinMs 0: jobs come at the network's pace, and a thread spinning for the next one (0.1 ms
  // after each) burns CPU the server, the producers and BullMQ need: 200 µs per no-op job, measured.
  try {
    await loadModules(executor, options.tasks, settings.connectionTimeoutMs);
  } catch (error) {
    if (ownPool) await executor.shutdown({ force: true });
    throw error;
  }
  const running = new Map<string, Running>();
  /** Cancels heard for jobs not held here (yet): one may come before its job, handed over as the producer sent it. */
  const recent = new RecentIds<CancelEvent>(60_000);
  const counts = { completed: 0, failed: 0 };
  /** Ids of the jobs handed back: a job BullMQ takes again while it stops is handed back again, and counted once. */
  const handedBack = new Set<string>();
  /** Taking jobs, or closing: from close() on, no job starts here. */
  let state: 'taking' | 'closing' = 'taking';
  /** A task of a job handed back was let go of, and may still run on the pool. */
  let letGo = false;
  /** Settles once close() gives up on a server that does not answer (then no hand-back is waited for). */
  let giveUpOnServer!: () => void;
  const gaveUpOnServer = new Promise<void>((resolve) => (giveUpOnServer = resolve));
  /**
   * Marks a job to go back to the queue and stops it; its processor's catch moves it back. A job
   * stopped already (its producer's cancel or abort, its timeout) is left to fail as it is: handed
   * back, another worker would run what its producer stopped.
   */
  const markHandBack = (entry: Running): void => {
    if (entry.stop.stopped) return;
    entry.handBack = true;
    entry.stop.stop(new AbortError('the worker is shutting down; the job goes back to the queue'));
  };

  const lookup = (jobName: string): Task => {
    const dot = jobName.lastIndexOf('.');
    const module = dot > 0 ? modules.get(jobName.slice(0, dot)) : undefined;
    if (module === undefined) {
      throw new TaskNotFoundError(`this worker has no task module for '${jobName}' (it runs ${[...modules.keys()].map((m) => `'${m}.*'`).join(', ')})`);
    }
    return module[jobName.slice(dot + 1)]!;
  };

  const runSlots = new RunSlots(settings.concurrency);
  const holding = new JobHolding(settings.concurrency, (jobs) => (worker.concurrency = jobs), settings.takeAhead, backend.kind === 'postgres');
  // Asks (on the queue's stream) and probes (on the control stream) go out through producers
  // made on first need: most workers never ask, nor probe.
  const speakers: { asker?: bullmq.QueueEventsProducer; prober?: bullmq.QueueEventsProducer } = {};
  const speaker = (which: 'asker' | 'prober'): bullmq.QueueEventsProducer => {
    if (speakers[which] === undefined) {
      speakers[which] = backend.newEventsProducer(which === 'asker' ? options.queue : controlQueue(options.queue));
      speakers[which].on('error', () => {}); // connection trouble: it reconnects
    }
    return speakers[which];
  };
  const probeId = randomBytes(6).toString('hex');
  // Consents come on a faster wire where the backend has one (pg-consent.ts), and on the stream
  // (answers to asks; all of them elsewhere). Asks go on it first too.
  const consentWire = backend.newConsentWire(options.queue);
  const consents = new StartConsents({
    ask: (ids) => publish(speaker('asker'), ASK_EVENT, { ids }),
    probe: (n) => publish(speaker('prober'), PROBE_EVENT, { worker: probeId, n: String(n) }),
    askAfterMs: backend.kind === 'postgres' ? 250 : 500,
    ...(consentWire === undefined ? {} : { askNow: (producer: string, ids: string[]) => consentWire.ask(producer, ids) }),
  });

  /** One job's run here, from its wait for consent to its result (`token`: BullMQ's lock on it). */
  const runJob = async (job: Job, token: string | undefined): Promise<JobResult> => {
    const data = job.data as JobData;
    const stop = new JobStop();
    const entry: Running = { job, stop, handBack: false, started: false };
    running.set(job.id!, entry);
    const early = recent.take(job.id!);
    if (early !== undefined) stop.stop(cancelError(early)); // a cancel heard before the job came wins
    // A fetch in flight when close() began still completes — BullMQ's blocking wait, woken by a
    // job just handed back, or a completion that fetched the next job: what it takes goes back.
    else if (state !== 'taking') markHandBack(entry);
    try {
      if (stop.stopped) throw stop.reason;
      const task = lookup(job.name);
      const args = unpackArgs(data, job.name);
      // Not before its producer consents: a future cancelled meanwhile must never start (start-consent.ts)
      // — unless it committed the job at submit (idle-commit.ts): then there is no trip to time (NaN).
      // (processedOn: the worker's own Date.now() as BullMQ took the job.)
      const takenAt = job.processedOn ?? Date.now();
      const consentMs = (data.p === undefined ? takenAt : data.g === 1 ? Number.NaN : await consents.wait(job.id!, data.p, stop)) - takenAt;
      await runSlots.acquire(stop); // (a free slot comes at once, stopped or not: checked below)
      entry.started = true;
      const startedAt = performance.now();
      if (stop.stopped) throw stop.reason; // stopped as the slot came: it must not start
      // Only a task its producer can abort (it had a signal) or time out is submitted with a
      // signal: a pool runs such a call alone on its thread (ending it may end the thread), which
      // costs every other job its batching. Any other job is let go of on shutdown's hand-back.
      const abortable = abortableJob(data);
      const run = (abortable ? task.with({ signal: stop.signal, ...(data.t === undefined ? {} : { timeoutMs: data.t }) }) : task) as Task<(...a: unknown[]) => unknown>;
      const submitted = data.c === 1 ? Promise.all((args[0] as unknown[]).map((item) => executor.submit(run, item))) : executor.submit(run, ...args);
      const value = abortable ? await submitted : await stop.race(submitted);
      const result = { r: pack(value, settings.maxPayloadBytes, `the result of '${job.name}'`), w: thisWorker };
      counts.completed++;
      holding.ran(performance.now() - startedAt, consentMs, running.size >= holding.holding);
      return result;
    } catch (error) {
      if (entry.handBack && token !== undefined) {
        if (entry.started && !abortableJob(data)) letGo = true;
        try {
          // A server that is away holds the command until it is back: once close() gives up on
          // it, the hand-back is not waited for (its BullMQ close, and the pool's end, wait on it).
          const moved = job.moveToWait(token);
          moved.catch(() => {});
          if (await Promise.race([moved.then(() => true), gaveUpOnServer.then(() => false)])) handedBack.add(job.id!);
        } catch {
          // The server refused or is gone: BullMQ, closing, leaves a job whose processor threw
          // WaitingError as it is and stops renewing its lock, so its stall check puts it back.
        }
        throw new bullmq.WaitingError();
      }
      counts.failed++;
      const unrecoverable = error instanceof TaskNotFoundError || error instanceof TaskSerializationError || error instanceof AbortError;
      const final = unrecoverable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      // Only the final failure is kept for the producer: it reads it when the job's 'failed' event comes.
      if (final) await job.updateData({ ...data, e: packError(error, settings.maxPayloadBytes) });
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : describe(error);
      throw unrecoverable ? new bullmq.UnrecoverableError(reason) : new Error(reason);
    } finally {
      if (entry.started) runSlots.release();
      if (running.get(job.id!) === entry) running.delete(job.id!); // (not a later taking of the same job)
    }
  };

  // BullMQ's main loop hands a job it fetched to the processor only once it has fetched as many
  // more as it may hold, one query after another: a job alone waited for one more query, which
  // finds the queue empty (0.8 ms on Redis, traced), before its hand-off to the pool even began.
  // So a job begins as BullMQ says it has it — its 'active' event, emitted as the job is fetched
  // — and the processor takes up the run that began (or begins it: an event BullMQ did not send).
  const begun = new Map<Job, Promise<JobResult>>();
  // Two parameters: BullMQ makes an AbortController for every job of a processor that takes a
  // third, and it fires only on worker.cancelJob(), which reaches this process alone. A job's
  // JobStop does that job for less (a producer's cancel or abort, the hand-back at close).
  const processor = (job: Job, token?: string): Promise<JobResult> => {
    const run = begun.get(job);
    if (run === undefined) return runJob(job, token);
    begun.delete(job);
    return run;
  };
  const worker = backend.newWorker(options.queue, processor, {
    concurrency: holding.initial, // then as many more as hide the wait for consent (JobHolding)
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.stalledIntervalMs,
    maxStalledCount: settings.maxStalledCount,
    autorun: false,
  });
  const events = backend.newQueueEvents(controlQueue(options.queue)); // what producers say: start, cancel, alive, bye
  // Connection trouble: BullMQ reconnects. The last error is kept to say why a start timed out.
  let lastError: unknown;
  worker.on('error', (error) => (lastError = error));
  worker.on('drained', () => holding.drained());
  worker.on('active', (job) => {
    // Not a job BullMQ fails without running it (stalled more often than allowed), nor one begun.
    if (job.deferredFailure || begun.has(job) || running.get(job.id!)?.job === job) return;
    const run = runJob(job, job.token);
    run.catch(() => {}); // (the processor returns it to BullMQ, rejection and all)
    begun.set(job, run);
  });
  events.on('error', (error) => (lastError = error));
  events.on(CANCEL_EVENT as 'added', ((event: CancelEvent) => {
    // A job not taken here yet is remembered: it may be on its way to this worker.
    const entry = running.get(event.jobId);
    if (entry === undefined) recent.set(event.jobId, event);
    else entry.stop.stop(cancelError(event));
  }) as never);
  events.on(START_EVENT as 'added', (({ producer, ids }: { producer: string; ids: string }) => consents.started(producer, ids)) as never);
  consentWire?.listen((producer, ids) => consents.started(producer, ids));
  events.on(ALIVE_EVENT as 'added', (({ producer }: { producer: string }) => consents.heard(producer)) as never);
  events.on(BYE_EVENT as 'added', (({ producer }: { producer: string }) => consents.heard(producer, true)) as never);
  events.on(PROBE_EVENT as 'added', (({ worker: from, n }: { worker: string; n: string }) => from === probeId && consents.probed(Number(n))) as never);
  // ioredis retries an unreachable server for ever, so readiness alone could wait in silence.
  let timer: Timer | undefined;
  let gaveUp = false;
  try {
    await Promise.race([
      Promise.all([worker, events].map((part) => reachable(part, () => gaveUp, (error) => (lastError = error)))),
      new Promise<never>((_, reject) => {
        timer = after(settings.connectionTimeoutMs, () => {
          reject(new QueueConnectionError(`could not reach the queue server ${backend.where} within ${settings.connectionTimeoutMs} ms (connectionTimeoutMs)${describeConnectionError(lastError)}`, { cause: lastError }));
        });
      }),
    ]);
  } catch (error) {
    gaveUp = true;
    backend.giveUp();
    await Promise.all([worker, events].map((part) => part.disconnect().catch(() => {})));
    await consentWire?.close();
    consents.close();
    if (ownPool) await executor.shutdown({ force: true });
    throw error;
  } finally {
    timer?.clear();
  }
  void worker.run().catch(() => {});

  let closing: Promise<void> | undefined;
  return {
    id: thisWorker,
    stats: () => ({ running: [...running.values()].filter((entry) => entry.started).length, ...counts, requeued: handedBack.size }),
    close(closeOptions = {}) {
      let graceMs: number;
      try {
        // Timers that honour any length: setTimeout fires at once for NaN and for 2^31 ms or more.
        graceMs = checkTimeout(closeOptions.graceMs ?? settings.graceMs, 'QueueWorker.close: graceMs') ?? Infinity;
      } catch (error) {
        return Promise.reject(error as Error);
      }
      closing ??= (async () => {
        state = 'closing';
        // A job held but not started (waiting for its consent or a run slot) is not running: it
        // goes back now, where another worker can start it, rather than start during the grace.
        for (const entry of running.values()) if (!entry.started) markHandBack(entry);
        const timer = after(graceMs, () => {
          for (const entry of running.values()) markHandBack(entry);
          // A task let go of must not start here after its job went back (a call still queued in
          // the own pool when concurrency exceeds its threads): queued calls are cancelled.
          if (ownPool) void executor.shutdown({ cancelFutures: true, wait: false });
        });
        // BullMQ's close() waits for the server: one that is gone is given up on after the grace.
        const giveUp = after(graceMs + 5_000, () => {
          backend.giveUp();
          giveUpOnServer();
          for (const part of [worker, events, speakers.asker, speakers.prober]) part?.disconnect().catch(() => {});
        });
        try {
          // Nor is BullMQ's close() waited for once given up on: with the server away it may
          // never end (its loop waits on a command the disconnected client holds), and the pool's
          // threads, ended below, must not run on past the grace.
          const closed = worker.close();
          closed.catch(() => {});
          await Promise.race([closed, gaveUpOnServer]);
        } finally {
          timer.clear();
          // A job begun that BullMQ's loop never processed (its close() gave up on the server): it
          // goes back like one held at close, its wait for consent or run ended, not left pending.
          for (const job of begun.keys()) {
            const entry = running.get(job.id!);
            if (entry?.job === job) markHandBack(entry);
          }
          begun.clear();
          consents.close();
          const rest = Promise.all([events.close(), speakers.asker?.close(), speakers.prober?.close(), consentWire?.close()].map((p) => p?.catch(() => {})));
          await Promise.race([rest, gaveUpOnServer]); // (the same: given up on, not waited for)
          giveUp.clear();
          // A task let go of at hand-back may still run on the own pool: its threads are ended.
          if (ownPool) await executor.shutdown({ force: letGo });
        }
      })();
      return closing;
    },
  };
}

/**
 * Loads every task module (on one of the pool's workers) before a job is taken. A module that
 * cannot load (a file missing from the deployment, a throw at import) would otherwise fail every
 * job this worker takes — quickly, so it would take many — where the fleet's other workers could
 * run them. One whose import never settles (a top-level await on something that never comes)
 * fails the start after `timeoutMs`, where the worker would otherwise wait in silence for ever.
 */
async function loadModules(executor: Executor, tasks: Record<string, URL | string>, timeoutMs: number): Promise<void> {
  await Promise.all(Object.entries(tasks).map(async ([name, url]) => {
    const cannot = (why: string, cause?: unknown) =>
      new TaskNotFoundError(`startQueueWorker: task module '${name}' (${String(url)}) cannot be loaded, so this worker takes no jobs: ${why}`, { cause });
    const late = cannot(`it did not finish loading within ${timeoutMs} ms (connectionTimeoutMs): an import that never settles?`);
    let timer: Timer | undefined;
    try {
      await Promise.race([
        executor.submit(taskModule(url)[LOAD_MODULE] as Task<() => unknown>),
        new Promise<never>((_, reject) => (timer = after(timeoutMs, () => reject(late)))),
      ]);
    } catch (error) {
      if (error === late) throw error;
      throw cannot(error instanceof Error ? `${error.name}: ${error.message}` : describe(error), error);
    } finally {
      timer?.clear();
    }
  }));
}
