/**
 * The public face of a pool: argument checks, `submit`, `map`, backpressure and shutdown over
 * the Scheduler. ThreadPoolExecutor and ProcessPoolExecutor are this class with a transport.
 */
import { toTask, type AnyFunction, type Runnable, type Task } from '../core/task.js';
import { plainArgs, prepareArgs, type PreparedArgs } from '../wire/args.js';
import { CallFlag } from '../wire/protocol.js';
import { AbortError, TimeoutError } from '../wire/errors.js';
import type { Executor, MapOptions, ResolvedOptions, ShutdownOptions, Submitted } from '../core/executor.js';
import { checkTimeout, describe, Future } from '../core/future.js';
import { Scheduler } from '../runtime/scheduler.js';
import type { ExecutorStats } from '../core/stats.js';
import type { Transport } from '../runtime/transport.js';

export abstract class PoolExecutor implements Executor {
  readonly #scheduler: Scheduler;
  readonly #maxWorkers: number;
  readonly #maxQueue: number;

  protected constructor(options: ResolvedOptions, transport: Transport) {
    this.#scheduler = new Scheduler(options, transport);
    this.#maxWorkers = options.maxWorkers;
    this.#maxQueue = options.maxQueue;
  }

  /** The executor's name (its workers are named after it). */
  get name(): string {
    return this.#scheduler.options.name;
  }

  /**
   * Schedules `task(...args)` on a worker and returns its Future. Throws at once — nothing is
   * queued — if an argument cannot be sent (`TaskSerializationError`), the queue is full
   * (`QueueFullError`), or the executor is shut down or broken.
   *
   * @example
   * const f = executor.submit((a: number, b: number) => a + b, 2, 3);
   * console.log(await f); // 5
   */
  submit<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): Future<Awaited<ReturnType<F>>> {
    const t = toTask(task);
    this.#scheduler.checkOpen();
    if (plainArgs(args as unknown[])) {
      return this.#scheduler.submit(t, args as unknown[], 0, t.options.transfer) as Future<Awaited<ReturnType<F>>>;
    }
    const prepared = this.#prepareArgs(t, args as unknown[]);
    return this.#scheduler.submit(t, prepared.args, prepared.flags, prepared.transfer) as Future<Awaited<ReturnType<F>>>;
  }

  /**
   * Like `submit`, but when the queue is full (`maxQueue`) waits for room instead of throwing.
   * Aborting the task's signal while it waits rejects with `AbortError`.
   *
   * It resolves to `{ future }`, not to the future itself: a Future is a promise, and a promise
   * resolved with a promise would wait for the task's result instead.
   *
   * @example
   * for await (const job of jobs) {
   *   const { future } = await executor.submitAsync(work, job); // waits while the queue is full
   *   futures.push(future);
   * }
   */
  async submitAsync<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): Promise<Submitted<Awaited<ReturnType<F>>>> {
    const t = toTask(task);
    await this.#room(t);
    return { future: this.submit(t, ...args) };
  }

  /** Waits until the queue has room for `task`, honouring its signal. */
  async #room(task: Task): Promise<void> {
    const signal = task.options.signal;
    const exclusive = signal !== undefined || task.options.timeoutMs !== undefined;
    while (!this.#scheduler.hasRoom(exclusive)) {
      this.#scheduler.checkOpen();
      if (signal?.aborted === true) throw new AbortError(`task '${task.name}' was aborted while waiting for room in the queue`, { cause: signal.reason });
      await raceAbort(this.#scheduler.waitForRoom(), signal);
    }
  }

  /**
   * Runs `task` on each item, lazily: items are pulled only as tasks finish, so an endless or
   * huge input is fine. Results come in input order unless `ordered: false`. Leaving the loop
   * early, an error, or the `timeoutMs` deadline cancels what has not started.
   *
   * @example
   * for await (const digest of executor.map(hash.sha256, files, { timeoutMs: 60_000 })) {
   *   console.log(digest);
   * }
   */
  map<T, R>(
    task: Runnable<(item: T) => R>,
    items: Iterable<T> | AsyncIterable<T>,
    options: MapOptions = {},
  ): AsyncIterableIterator<Awaited<R>> {
    const t = toTask(task as Runnable<AnyFunction>);
    const chunkSize = options.chunkSize ?? 1;
    if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`map: chunkSize must be an integer >= 1, got ${describe(chunkSize)}`);
    const timeoutMs = checkTimeout(options.timeoutMs);
    const concurrency = options.concurrency ?? this.#maxWorkers * 32;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`map: concurrency must be an integer >= 1, got ${describe(concurrency)}`);
    if (items === null || (typeof (items as Iterable<T>)[Symbol.iterator] !== 'function' && typeof (items as AsyncIterable<T>)[Symbol.asyncIterator] !== 'function')) {
      throw new TypeError(`map: items must be an iterable or async iterable, got ${describe(items)}`);
    }
    this.#scheduler.checkOpen();
    return this.#mapLoop(t, items, chunkSize, timeoutMs, options.ordered ?? true, Math.min(concurrency, this.#maxQueue + this.#maxWorkers));
  }

  async *#mapLoop<T, R>(
    task: Task,
    items: Iterable<T> | AsyncIterable<T>,
    chunkSize: number,
    timeoutMs: number | undefined,
    ordered: boolean,
    window: number,
  ): AsyncGenerator<Awaited<R>> {
    const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
    const source = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]();
    const chunkTask = chunkSize > 1 ? task : undefined;
    const inFlight: Future<unknown>[] = [];
    const finished: Future<unknown>[] = [];
    let wakeUnordered: (() => void) | undefined;
    let exhausted = false;
    try {
      for (;;) {
        while (!exhausted && inFlight.length < window) {
          const chunk: T[] = [];
          while (chunk.length < chunkSize) {
            const next = await source.next();
            if (next.done === true) {
              exhausted = true;
              break;
            }
            chunk.push(next.value);
          }
          if (chunk.length === 0) break;
          await this.#room(task);
          const future = chunkTask !== undefined ? this.#submitChunk(chunkTask, chunk) : this.submit(task as Task<(item: unknown) => unknown>, chunk[0]);
          inFlight.push(future);
          if (!ordered) {
            future.addDoneCallback(() => {
              finished.push(future);
              wakeUnordered?.();
            });
          }
        }
        if (inFlight.length === 0) return;
        let next: Future<unknown>;
        if (ordered) {
          next = inFlight[0]!;
        } else {
          while (finished.length === 0) await this.#untilDeadline(new Promise<void>((r) => (wakeUnordered = r)), deadline, timeoutMs);
          next = finished.shift()!;
        }
        await this.#untilDeadline(next.exception().then(() => undefined, () => undefined), deadline, timeoutMs);
        inFlight.splice(inFlight.indexOf(next), 1);
        const value = await next;
        if (chunkTask !== undefined) yield* value as Awaited<R>[];
        else yield value as Awaited<R>;
      }
    } finally {
      for (const future of inFlight) future.cancel();
      if (!exhausted) await source.return?.();
    }
  }

  async #untilDeadline(waiting: Promise<void>, deadline: number, timeoutMs: number | undefined): Promise<void> {
    if (deadline === Infinity) return waiting;
    const remaining = deadline - performance.now();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`map did not finish within ${timeoutMs} ms`)), Math.max(0, remaining));
    });
    try {
      await Promise.race([waiting, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  #submitChunk(task: Task, chunk: unknown[]): Future<unknown> {
    this.#scheduler.checkOpen();
    const prepared = this.#prepareArgs(task, [chunk]);
    return this.#scheduler.submit(task, prepared.args, prepared.flags | CallFlag.Chunk, prepared.transfer);
  }

  /**
   * Stops taking tasks. With `wait` (default) resolves when queued and running tasks have
   * finished and the workers have exited; `cancelFutures` cancels tasks that have not started.
   * Calling it again returns the same shutdown.
   *
   * @example
   * await executor.shutdown({ cancelFutures: true });
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (typeof options !== 'object' || options === null) throw new TypeError(`shutdown options must be an object, got ${describe(options)}`);
    const { wait = true, cancelFutures = false } = options;
    const done = this.#scheduler.shutdown(cancelFutures);
    return wait ? done : Promise.resolve();
  }

  /** `await using executor = new ThreadPoolExecutor()` shuts it down at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  /** Counters and timings: workers, busy, queued, running, completed, failed, cancelled, percentiles. */
  stats(): ExecutorStats {
    return this.#scheduler.stats();
  }

  /** Resolves when no task waits in the queue — a producer's cue to submit more. */
  drained(): Promise<void> {
    return this.#scheduler.drained();
  }

  /** Resolves when no task is queued or running. */
  idle(): Promise<void> {
    return this.#scheduler.idle();
  }

  #prepareArgs(task: Task, args: unknown[]): PreparedArgs {
    const { kind, sharedMemory } = this.#scheduler.transport;
    return prepareArgs(task, args, kind, sharedMemory);
  }
}

function raceAbort(waiting: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return waiting;
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(new AbortError('aborted while waiting for room in the queue', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    waiting.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
