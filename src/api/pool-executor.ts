/**
 * The public face of a pool: argument checks, `submit`, `map`, backpressure and shutdown over
 * the Scheduler. ThreadPoolExecutor and ProcessPoolExecutor are this class with a transport.
 */
import { refuseQueueOptions, toTask, type AnyFunction, type Runnable, type Task } from '../core/task.js';
import { plainArgs, prepareArgs, type PreparedArgs } from '../wire/args.js';
import { CallFlag } from '../wire/protocol.js';
import { AbortError } from '../wire/errors.js';
import type { Executor, MapOptions, ResolvedOptions, ShutdownOptions, Submitted } from '../core/executor.js';
import { describe, Future } from '../core/future.js';
import { Scheduler } from '../runtime/scheduler.js';
import { openStream, type StreamChunk, type StreamReturn, type TaskStream } from '../core/stream.js';
import { checkMapOptions, MapRun, type MapHost } from './map-run.js';
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

  /**
   * Runs `task(...args)` — an `async function*`, or a task returning an (async) iterable — on a
   * worker, which it has to itself while it streams, and yields its chunks here as they come.
   * At most `highWaterMark` chunks (`task.with({ highWaterMark })`, default 16) are ever unread:
   * the generator pauses at its `yield` until the consumer catches up. Leaving the `for await`
   * early, or aborting the task's signal, runs the generator's `return()` on the worker (its
   * `finally` blocks run) and frees the worker; an error it throws arrives at the `for await`.
   * Throws at once, like `submit`, on a bad argument, a full queue or a closed executor.
   *
   * @example
   * for await (const line of executor.stream(logs.grep, '/var/log/big.log', 'FATAL')) {
   *   console.log(line);
   * }
   */
  stream<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): TaskStream<StreamChunk<ReturnType<F>>, StreamReturn<ReturnType<F>>> {
    const t = toTask(task);
    this.#scheduler.checkOpen();
    const prepared = plainArgs(args as unknown[]) ? { args: args as unknown[], flags: 0, transfer: t.options.transfer } : this.#prepareArgs(t, args as unknown[]);
    return openStream(t, prepared.args, prepared.flags, (a, flags) => this.#scheduler.submit(t, a, flags, prepared.transfer));
  }

  /**
   * Waits until the queue has room for `task`, honouring its signal. `fromMap`: for a map begun
   * before a shutdown, which may go on submitting while the executor drains.
   */
  async #room(task: Task, fromMap = false): Promise<void> {
    const signal = task.options.signal;
    const exclusive = signal !== undefined || task.options.timeoutMs !== undefined;
    while (!this.#scheduler.hasRoom(exclusive)) {
      this.#scheduler.checkOpen(fromMap);
      if (signal?.aborted === true) throw new AbortError(`task '${task.name}' was aborted while waiting for room in the queue`, { cause: signal.reason });
      await raceAbort(this.#scheduler.waitForRoom(), signal);
    }
  }

  /**
   * Runs `task` on each item, lazily and bounded (Python 3.14's `map(..., buffersize)`): calling
   * it starts the first `concurrency` calls at once, then items are pulled only as results are
   * taken, so an endless or huge input is fine. Results come in input order unless
   * `ordered: false`. Leaving the loop early, an error, or the `timeoutMs` deadline cancels what
   * has not started. A map begun before `shutdown()` still completes (unless `cancelFutures`).
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
    return this.#run(toTask(task as Runnable<AnyFunction>), items, options, 0);
  }

  /**
   * `map` for tasks of several arguments (multiprocessing's `starmap`): each item is the list of
   * one call's arguments. Lazy and bounded like `map`.
   *
   * @example
   * for await (const sum of executor.starmap(math.add, [[1, 2], [3, 4]])) console.log(sum); // 3, 7
   */
  starmap<F extends AnyFunction>(
    task: Runnable<F>,
    argLists: Iterable<Parameters<F>> | AsyncIterable<Parameters<F>>,
    options: MapOptions = {},
  ): AsyncIterableIterator<Awaited<ReturnType<F>>> {
    return this.#run(toTask(task as Runnable<AnyFunction>), argLists as Iterable<unknown>, options, CallFlag.Spread);
  }

  #run<T, R>(task: Task, items: Iterable<T> | AsyncIterable<T>, options: MapOptions, spread: number): AsyncIterableIterator<R> {
    const what = spread === 0 ? 'map' : 'starmap';
    const { chunkSize, timeoutMs, ordered, window: concurrency } = checkMapOptions(what, items, options, this.#maxWorkers * 32);
    this.#scheduler.checkOpen();
    refuseQueueOptions(task, `${what} on a ${this.constructor.name}`);
    const scheduler = this.#scheduler;
    const host: MapHost<T> = {
      submit: (chunk) => {
        let args: unknown[] = chunk;
        if (chunkSize > 1) args = [chunk];
        else if (spread !== 0) args = chunk[0] as unknown[];
        if (spread !== 0 && !(chunkSize > 1 ? chunk.every(Array.isArray) : Array.isArray(args))) {
          throw new TypeError('starmap: each item must be an array of arguments');
        }
        const prepared = this.#prepareArgs(task, args);
        const flags = prepared.flags | (chunkSize > 1 ? CallFlag.Chunk | spread : 0);
        return scheduler.submit(task, prepared.args, flags, prepared.transfer, true);
      },
      room: () => (scheduler.hasRoom(task.options.signal !== undefined || task.options.timeoutMs !== undefined) ? undefined : this.#room(task, true)),
      openMap: (onShutdown) => scheduler.openMap(onShutdown),
    };
    const window = Math.min(concurrency, this.#maxQueue + this.#maxWorkers);
    return new MapRun<T, R>(host, items, { chunkSize, window, ordered, timeoutMs });
  }

  /**
   * Stops taking tasks. With `wait` (default) resolves when queued and running tasks have
   * finished and the workers have exited; `cancelFutures` cancels tasks that have not started;
   * `force` also cancels the running ones, firing their signals, and ends every worker now.
   * Calling it again returns the same shutdown (or forces it).
   *
   * @example
   * await executor.shutdown({ cancelFutures: true });
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (typeof options !== 'object' || options === null) throw new TypeError(`shutdown options must be an object, got ${describe(options)}`);
    const { wait = true, cancelFutures = false, force = false } = options;
    for (const [key, value] of Object.entries({ wait, cancelFutures, force })) {
      if (typeof value !== 'boolean') throw new TypeError(`shutdown: ${key} must be a boolean, got ${describe(value)}`);
    }
    const done = this.#scheduler.shutdown(cancelFutures, force);
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
