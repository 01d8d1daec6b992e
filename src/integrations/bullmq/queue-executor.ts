/**
 * QueueExecutor: the Executor interface over a BullMQ queue. `submit` adds a job named after the
 * task's portable name; workers started with `startQueueWorker` (or `threadloop worker`) on any
 * machine run it; the Future settles from the queue's event stream.
 */
import { randomBytes } from 'node:crypto';
import type { JobsOptions } from 'bullmq';
import { reachable, resolveBackend, type QueueConnection } from './backend.js';
import { JobTracker } from './job-tracker.js';
import { controlQueue } from './start-consent.js';
import { jobOptionsOf } from './job-options.js';
import { checkMapOptions, MapRun, type MapHost } from './internals.js';
import {
  AbortError,
  checkTimeout,
  refuseUnknownOptions,
  checkUnobservedFailures,
  describe,
  CancelledError,
  ExecutorShutdownError,
  Future,
  QueueFullError,
  TaskSerializationError,
  toTask,
  type AnyFunction,
  type Executor,
  type ExecutorStats,
  type MapOptions,
  type Runnable,
  type ShutdownOptions,
  type Submitted,
  type Task,
  type UnobservedFailures,
} from './internals.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, packArgs, type JobData, type WorkerId } from './payload.js';
import { QueuedJob } from './queued-job.js';
import { RetentionSweeper, sweptRetention } from './retention.js';

/** Options of a QueueExecutor. */
export interface QueueExecutorOptions {
  /** The queue's name; workers started on the same name run its jobs. */
  queue: string;
  /** `redis://…` or `postgres://…` (the scheme picks BullMQ's backend), or BullMQ connection options. */
  connection: QueueConnection;
  /** Most of this executor's jobs waiting in the queue; `submit` beyond it throws `QueueFullError`. Default unbounded. */
  maxQueue?: number | undefined;
  /** Largest serialized arguments (and results, on the worker) in bytes. Default 1 MiB. */
  maxPayloadBytes?: number | undefined;
  /** Fail the waiting futures once the server has been unreachable this long. Default 30,000 ms. */
  connectionTimeoutMs?: number | undefined;
  /** BullMQ job options for every job (`removeOnComplete`, `priority`, …); per task: `task.with({ attempts, backoff, priority })`. */
  jobOptions?: JobsOptions | undefined;
  /** `'ignore'`: no `THREADLOOP_UNOBSERVED_FAILURE` warning for a failed future nobody looked at. Default `'warn'`. */
  unobservedFailures?: UnobservedFailures | undefined;
  /**
   * Commit a job sent while nothing else of this executor is in flight, its last job was taken at
   * once and its last check found workers on the queue (a fleet with room): it starts without
   * waiting for this producer's consent, a round trip through the server, and its future is
   * running from the submit (`cancel()` false), as with an idle pool. A task with a signal, or a delayed job, is never committed. `false`: every
   * job waits for its consent, so `cancel()` can take it back until a worker takes it. Default true.
   */
  commitWhenIdle?: boolean | undefined;
}

const keys = new Set(['queue', 'connection', 'maxQueue', 'maxPayloadBytes', 'connectionTimeoutMs', 'jobOptions', 'unobservedFailures', 'commitWhenIdle']);

/**
 * Finished jobs are kept long enough for a producer that missed an event to ask for the outcome.
 * On Redis also at most 100,000 of them (memory); not on PostgreSQL, whose count-based retention
 * (BullMQ 6.7) sorts every finished job of the queue at each completion — 3 ms of the server's
 * CPU per job with a few thousand kept, measured. There the age is swept by the producer
 * (retention.ts), not applied at each completion.
 */
function defaultJobOptions(kind: 'redis' | 'postgres'): JobsOptions {
  return { attempts: 1, removeOnComplete: kind === 'redis' ? { age: 600, count: 100_000 } : { age: 600 }, removeOnFail: { age: 3600 } };
}

/**
 * An Executor whose tasks run on a fleet of worker processes, through a BullMQ queue on Redis or
 * PostgreSQL. Tasks must have portable names (`taskModule(url, { name })`): no code travels
 * through the queue, only the task's name and its arguments.
 *
 * @example
 * const images = taskModule<typeof import('./images.js')>(new URL('./images.js', import.meta.url), { name: 'images' });
 * await using executor = new QueueExecutor({ queue: 'thumbs', connection: 'redis://127.0.0.1:6379' });
 * const png = await executor.submit(images.thumbnail.with({ timeoutMs: 10_000 }), 'cat.jpg', 256);
 */
export class QueueExecutor implements Executor {
  readonly #queueName: string;
  readonly #maxQueue: number;
  readonly #maxPayloadBytes: number;
  readonly #jobOptions: JobsOptions;
  readonly #unobservedFailures: UnobservedFailures;
  readonly #tracker: JobTracker;
  readonly #sweeper: RetentionSweeper;
  readonly #close: () => Promise<void>;
  readonly #ready: Promise<void>;
  readonly #idPrefix = randomBytes(6).toString('hex');
  #nextId = 1;
  #state: 'open' | 'closing' | 'closed' = 'open';
  #shutdown: Promise<void> | undefined;

  constructor(options: QueueExecutorOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError(`QueueExecutor options must be an object, got ${describe(options)}`);
    refuseUnknownOptions('QueueExecutor', options, keys);
    const { queue, maxQueue = Infinity, maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES, connectionTimeoutMs = 30_000, jobOptions = {}, commitWhenIdle = true } = options;
    if (typeof queue !== 'string' || queue === '') throw new TypeError(`QueueExecutor: queue must be a non-empty string, got ${describe(queue)}`);
    if (!(maxQueue === Infinity || (Number.isInteger(maxQueue) && maxQueue >= 0))) throw new RangeError(`QueueExecutor: maxQueue must be an integer >= 0, got ${describe(maxQueue)}`);
    if (!(Number.isInteger(maxPayloadBytes) && maxPayloadBytes > 0)) throw new RangeError(`QueueExecutor: maxPayloadBytes must be an integer > 0, got ${describe(maxPayloadBytes)}`);
    checkTimeout(connectionTimeoutMs, 'connectionTimeoutMs');
    if (typeof commitWhenIdle !== 'boolean') throw new TypeError(`QueueExecutor: commitWhenIdle must be a boolean, got ${describe(commitWhenIdle)}`);
    this.#unobservedFailures = checkUnobservedFailures('QueueExecutor', options.unobservedFailures);
    this.#queueName = queue;
    this.#maxQueue = maxQueue;
    this.#maxPayloadBytes = maxPayloadBytes;
    const backend = resolveBackend(options.connection, 'QueueExecutor');
    const bullQueue = backend.newQueue(queue);
    const merged = { ...defaultJobOptions(backend.kind), ...jobOptions };
    // Redis applies an age with a sorted set's range delete: no sweeping needed there.
    const retention = backend.kind === 'postgres' ? sweptRetention(merged) : { options: merged, ages: {} };
    this.#jobOptions = retention.options;
    this.#sweeper = new RetentionSweeper(bullQueue, retention.ages);
    const events = backend.newQueueEvents(queue);
    const producer = backend.newEventsProducer(queue);
    const control = backend.newEventsProducer(controlQueue(queue));
    const consentWire = backend.newConsentWire(queue);
    producer.on('error', () => {}); // connection trouble: it reconnects (the tracker listens on the others)
    this.#tracker = new JobTracker(bullQueue, events, control, {
      producer: this.#idPrefix,
      where: backend.where,
      connectionTimeoutMs,
      // BullMQ 6.7's PostgreSQL event reader can skip an event (ids committed out of order):
      // the producer asks about its silent jobs sooner there.
      reconcileAfterMs: backend.kind === 'postgres' ? 500 : 5_000,
      checkEveryMs: backend.kind === 'postgres' ? 250 : 1_000,
      eventsMaySkip: backend.kind === 'postgres',
      commitWhenIdle,
      ...(consentWire === undefined ? {} : { consentWire }),
    }, (queued) => queued < this.#maxQueue);
    this.#ready = eventsListening(events, producer, () => this.#state !== 'open');
    this.#ready.then(() => {
      this.#tracker.markReached();
      if (this.#state === 'open') this.#sweeper.start();
    }, () => {}); // a server that is down: adds wait, connectionTimeoutMs fails them
    this.#close = async () => {
      this.#tracker.stop();
      this.#sweeper.stop();
      // A server never reached has no worker holding a job of this producer: no goodbye to say.
      const reached = this.#tracker.everReached;
      // Workers holding jobs of this producer need not wait for it any more (two seconds at most:
      // the server may be gone; they then count it gone after PRODUCER_SILENCE_MS).
      let byeTimer: NodeJS.Timeout | undefined;
      if (reached) await Promise.race([this.#tracker.sayBye(), new Promise((resolve) => (byeTimer = setTimeout(resolve, 2_000)))]);
      clearTimeout(byeTimer);
      // A close waits for the server; one that is gone gets its connections dropped instead.
      const closed = Promise.allSettled([bullQueue.close(), events.close(), producer.close(), control.close(), consentWire?.close()]);
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([closed.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, 2_000, true)))]);
      clearTimeout(timer);
      // (BullMQ's disconnect() also waits for a client that never connected: not awaited.)
      if (late) backend.giveUp();
      if (late) for (const part of [bullQueue, events, producer, control]) part.disconnect().catch(() => {});
    };
    // A failed add is tried again (the same jobId, so BullMQ adds it once) until the server has
    // been unreachable for connectionTimeoutMs: a restarting server must not fail new jobs.
    this.#add = (job, data, opts) => {
      let addSettled!: () => void;
      job.added = new Promise((resolve) => (addSettled = resolve));
      const attempt = (): void => {
        void this.#ready
          // (A committed job needs no word before it: no worker waits for this producer to start it.)
          .then(() => (job.state === 'committing' ? undefined : this.#tracker.speaking()))
          .then(() => {
            // Cancelled before it was sent, or failed (connectionTimeoutMs, saying it was never sent): it never will be.
            if (!job.sending) return;
            job.sentAt ||= Date.now();
            return bullQueue.add(job.name, data, { ...opts, jobId: job.id });
          })
          .then(
            () => {
              this.#tracker.added(job);
              addSettled();
            },
            (error: unknown) => {
              if (job.sending && performance.now() - job.submittedAt < connectionTimeoutMs) {
                setTimeout(attempt, 250);
                return;
              }
              if (job.sending) this.#tracker.addFailed(job, error);
              addSettled();
            },
          );
      };
      attempt();
    };
  }

  readonly #add: (job: QueuedJob, data: JobData, opts: JobsOptions) => void;

  /** The queue's name. */
  get queue(): string {
    return this.#queueName;
  }

  /**
   * Adds a job running `task(...args)` on some worker, and returns its Future: `pending` while it
   * waits in the queue, `running` once a worker has taken it — or at once, for a job committed to
   * a fleet with room (`commitWhenIdle`). Throws at once — nothing is
   * added — for a task without a portable name or arguments that cannot be sent
   * (`TaskSerializationError`), a full `maxQueue` (`QueueFullError`), or a shut-down executor.
   *
   * @example
   * const f = executor.submit(images.thumbnail, 'cat.jpg', 256);
   */
  submit<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): Future<Awaited<ReturnType<F>>> {
    return this.#submit(toTask(task), args as unknown[], false) as Future<Awaited<ReturnType<F>>>;
  }

  #submit(task: Task, args: unknown[], chunk: boolean): Future<unknown> {
    this.#checkOpen();
    const name = portableName(task);
    const opts = { ...this.#jobOptions, ...jobOptionsOf(task) };
    // A delayed job or one with a signal is never committed: its signal may take it back (idle-commit.ts).
    const committed = this.#tracker.commits((opts.delay ?? 0) <= 0 && task.options.signal === undefined);
    const data: JobData = {
      v: 1,
      a: packArgs(args, this.#maxPayloadBytes, `the arguments of '${name}'`, chunk),
      p: this.#idPrefix,
      ...(committed ? { g: 1 as const } : {}),
      ...(task.options.timeoutMs === undefined ? {} : { t: task.options.timeoutMs }),
      ...(task.options.signal === undefined ? {} : { s: 1 as const }),
      ...(chunk ? { c: 1 as const } : {}),
    };
    const future = new Future<unknown>();
    const { signal } = task.options;
    if (signal?.aborted === true) {
      future.reject(new AbortError(`task '${name}' was aborted before it was submitted`, { cause: signal.reason }));
      return future;
    }
    if (this.#tracker.queued >= this.#maxQueue) {
      throw new QueueFullError(`QueueExecutor '${this.#queueName}' has ${this.#tracker.queued} jobs waiting (maxQueue ${this.#maxQueue})`);
    }
    const job = new QueuedJob(`${this.#idPrefix}-${this.#nextId++}`, name, future, this.#tracker, this.#unobservedFailures);
    future.link = job;
    if (signal !== undefined) {
      const onAbort = () => this.#tracker.abort(job, signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      job.unlisten = () => signal.removeEventListener('abort', onAbort);
    }
    this.#tracker.track(job, committed);
    this.#add(job, data, opts);
    return future;
  }

  /**
   * Like `submit`, but waits for room when `maxQueue` jobs are waiting instead of throwing.
   * Resolves to `{ future }` (a promise resolved with a Future would wait for its result).
   *
   * @example
   * const { future } = await executor.submitAsync(images.thumbnail, 'cat.jpg', 256);
   */
  async submitAsync<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): Promise<Submitted<Awaited<ReturnType<F>>>> {
    const t = toTask(task);
    await this.#room(t);
    return { future: this.submit(t, ...args) };
  }

  async #room(task: Task): Promise<void> {
    const signal = task.options.signal;
    while (this.#tracker.queued >= this.#maxQueue) {
      this.#checkOpen();
      if (signal?.aborted === true) throw new AbortError(`task '${task.name}' was aborted while waiting for room in the queue`, { cause: signal.reason });
      await this.#tracker.waitFor('room');
    }
  }

  /**
   * Runs `task` on each item through the queue, lazily, with at most `concurrency` jobs in
   * flight (default 256): a huge or endless input is fine. Results come in input order unless
   * `ordered: false`; `chunkSize` items travel in one job. Leaving the loop early, an error or
   * the `timeoutMs` deadline cancels the jobs that have not started.
   *
   * @example
   * for await (const png of executor.map(images.thumbnail, paths, { concurrency: 500 })) save(png);
   */
  map<T, R>(task: Runnable<(item: T) => R>, items: Iterable<T> | AsyncIterable<T>, options: MapOptions = {}): AsyncIterableIterator<Awaited<R>> {
    return this.#run(toTask(task as Runnable<AnyFunction>), items, options, false);
  }

  /**
   * `map` for tasks of several arguments: each item is one job's argument list (one job per
   * list: `chunkSize` must be 1). Lazy and bounded like `map`.
   *
   * @example
   * for await (const png of executor.starmap(images.resize, [[a, 100], [b, 200]])) save(png);
   */
  starmap<F extends AnyFunction>(
    task: Runnable<F>,
    argLists: Iterable<Parameters<F>> | AsyncIterable<Parameters<F>>,
    options: MapOptions = {},
  ): AsyncIterableIterator<Awaited<ReturnType<F>>> {
    return this.#run(toTask(task as Runnable<AnyFunction>), argLists as Iterable<unknown>, options, true);
  }

  /** Streams do not travel through a queue: this throws a `TypeError` saying so. */
  stream(): never {
    throw new TypeError('a QueueExecutor cannot stream a task: run the generator on a local pool (ThreadPoolExecutor.stream) on the worker, and return its collected result');
  }

  /** One map run (api/map-run.ts, the pools' own) over this executor's jobs. */
  #run<T, R>(t: Task, items: Iterable<T> | AsyncIterable<T>, options: MapOptions, spread: boolean): AsyncIterableIterator<R> {
    const settings = checkMapOptions(spread ? 'starmap' : 'map', items, options, Math.min(256, this.#maxQueue === Infinity ? 256 : Math.max(1, this.#maxQueue)));
    if (spread && settings.chunkSize > 1) throw new RangeError('starmap on a QueueExecutor sends one job per argument list: chunkSize must be 1');
    this.#checkOpen();
    portableName(t);
    const host: MapHost<T> = {
      submit: (chunk) => {
        if (settings.chunkSize > 1) return this.#submit(t, [chunk], true);
        const args = spread ? chunk[0] : [chunk[0]];
        if (!Array.isArray(args)) throw new TypeError('starmap: each item must be an array of arguments');
        return this.#submit(t, args as unknown[], false);
      },
      room: () => this.#room(t),
      openMap: () => ({ close() {} }), // a map of a closing QueueExecutor fails at its next submit
    };
    return new MapRun<T, R>(host, items, settings);
  }

  /**
   * Stops taking tasks. With `wait` (default) resolves once this executor's jobs have settled
   * and its connections are closed; `cancelFutures` withdraws the pending jobs (not those running,
   * committed ones included: a committed job waits for a worker, as one a stopping worker handed back does).
   * Jobs already running on workers are not stopped (abort their signals for that) — unless
   * `force`: then every job ends now, the waiting ones withdrawn, the running ones aborted where
   * they run, and their futures reject with `CancelledError` at once.
   *
   * @example
   * await executor.shutdown({ cancelFutures: true });
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (typeof options !== 'object' || options === null) throw new TypeError(`shutdown options must be an object, got ${describe(options)}`);
    const { wait = true, cancelFutures = false, force = false } = options;
    if (force) this.#tracker.endAll(new CancelledError(`QueueExecutor '${this.#queueName}' was shut down with force: true`));
    else if (cancelFutures) for (const future of this.#tracker.waitingFutures()) future.cancel();
    if (this.#shutdown === undefined) {
      this.#state = 'closing';
      this.#tracker.wakeAll();
      this.#shutdown = this.#tracker.waitFor('idle').then(this.#close).finally(() => {
        this.#state = 'closed';
      });
    }
    return wait ? this.#shutdown : Promise.resolve();
  }

  /** `await using executor = new QueueExecutor(...)` shuts it down at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  /**
   * This executor's jobs: `queued` (pending in the queue), `running` (taken by a worker, or committed),
   * outcomes, wait and run times; `workers` is the number of workers connected to the queue.
   */
  stats(): ExecutorStats {
    return this.#tracker.stats();
  }

  /** Resolves when none of this executor's jobs is pending (a committed one counts as running). */
  drained(): Promise<void> {
    return this.#tracker.waitFor('drained');
  }

  /** Resolves when none of this executor's jobs is waiting or running. */
  idle(): Promise<void> {
    return this.#tracker.waitFor('idle');
  }

  /**
   * The worker (host and pid) that ran a settled future's job, when it ran on one.
   *
   * @example
   * const f = executor.submit(images.thumbnail, 'cat.jpg', 256);
   * await f;
   * console.log(executor.workerOf(f)); // { host: 'box-2', pid: 4121 }
   */
  workerOf(future: Future<unknown>): WorkerId | undefined {
    return this.#tracker.workerOf(future);
  }

  #checkOpen(): void {
    if (this.#state !== 'open') throw new ExecutorShutdownError(`QueueExecutor '${this.#queueName}' is shut down`);
  }
}

/** The name a worker knows the task by; inline and unnamed tasks cannot travel. */
function portableName(task: Task): string {
  if (task.ref.kind === 'inline') {
    throw new TaskSerializationError(
      `'${task.name}' is an inline function: no code travels through the queue. Export it from a module, ` +
        "name the module (taskModule(url, { name: 'jobs' })), and start workers with tasks: { jobs: url }",
    );
  }
  if (task.remoteName === undefined) {
    throw new TaskSerializationError(
      `task '${task.name}' has no portable name: its module's URL means nothing on another machine. ` +
        `Name the module — taskModule(url, { name: 'jobs' }) — and start workers with tasks: { jobs: url }`,
    );
  }
  return task.remoteName;
}

/**
 * Resolves once `events` is reading the stream: an event published after that is seen. (A
 * QueueEvents starts reading from "now" some time after it is made; a job added before then
 * would have its events missed.)
 */
async function eventsListening(events: import('bullmq').QueueEvents, producer: import('bullmq').QueueEventsProducer, closing: () => boolean): Promise<void> {
  await reachable(events, closing);
  const token = randomBytes(8).toString('hex');
  await new Promise<void>((resolve) => {
    const onHello = (args: { token?: string }) => {
      if (args.token !== token) return;
      clearInterval(timer);
      events.off('threadloop:hello' as 'added', onHello as never);
      resolve();
    };
    events.on('threadloop:hello' as 'added', onHello as never);
    // Said again until heard: the first may go out before the reader's first read.
    const hello = () => producer.publishEvent({ eventName: 'threadloop:hello', token }).catch(() => {});
    const timer = setInterval(hello, 200).unref();
    void hello();
  });
}
