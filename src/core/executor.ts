/**
 * The Executor interface that thread and process pools share, and their options.
 */
import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import type { AnyFunction, Runnable } from './task.js';
import type { Future } from './future.js';
import type { ExecutorStats } from './stats.js';
import type { StreamChunk, StreamReturn, TaskStream } from './stream.js';
import { describe, refuseUnknownOptions } from './future.js';
import { perThread } from '../wire/thread-state.js';
import type { UnobservedFailures } from './unobserved.js';

/** Options of `executor.map`. */
export interface MapOptions {
  /** Items sent to a worker per task (the task still gets one item per call). Default 1. */
  chunkSize?: number | undefined;
  /** One deadline for the whole map; when it passes, what is left is cancelled. */
  timeoutMs?: number | undefined;
  /** Yield results in input order (default) or as they finish. */
  ordered?: boolean | undefined;
  /** Most tasks in flight at once. Default: 32 per worker (never more than `maxQueue` allows). */
  concurrency?: number | undefined;
}

/** Options of `executor.shutdown`. */
export interface ShutdownOptions {
  /** Resolve only when running and queued work has finished and workers have exited. Default true. */
  wait?: boolean | undefined;
  /** Cancel tasks that have not started. Default false. */
  cancelFutures?: boolean | undefined;
  /**
   * End everything now (Python 3.14's `terminate_workers()`): cancel the queue, fire every running
   * task's signal and end every worker at once; running futures reject with `CancelledError`.
   * Resolves when all workers are gone. Default false.
   */
  force?: boolean | undefined;
}

/** What `submitAsync` resolves to once the task is queued. */
export interface Submitted<T> {
  readonly future: Future<T>;
}

/** What thread and process pools have in common. */
export interface Executor extends AsyncDisposable {
  /**
   * Schedules `task(...args)` and returns its Future.
   * @example const f = executor.submit(math.fib, 30);
   */
  submit<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): Future<Awaited<ReturnType<F>>>;
  /**
   * Like `submit`, but waits for room in a full queue instead of throwing `QueueFullError`.
   * Resolves to `{ future }` (a promise resolved with a Future would wait for its result).
   */
  submitAsync<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): Promise<Submitted<Awaited<ReturnType<F>>>>;
  /**
   * Runs `task` over the items, lazily, yielding results (in order by default).
   * @example for await (const size of executor.map(files.size, paths)) total += size;
   */
  map<T, R>(
    task: Runnable<(item: T) => R>,
    items: Iterable<T> | AsyncIterable<T>,
    options?: MapOptions,
  ): AsyncIterableIterator<Awaited<R>>;
  /**
   * `map` for tasks of several arguments: each item is one call's argument list.
   * @example for await (const sum of executor.starmap(math.add, [[1, 2], [3, 4]])) console.log(sum);
   */
  starmap<F extends AnyFunction>(
    task: Runnable<F>,
    argLists: Iterable<Parameters<F>> | AsyncIterable<Parameters<F>>,
    options?: MapOptions,
  ): AsyncIterableIterator<Awaited<ReturnType<F>>>;
  /**
   * Runs `task(...args)` — an `async function*`, or a task returning an (async) iterable — and
   * yields its chunks as they come, with credit backpressure (`task.with({ highWaterMark })`).
   * @example for await (const row of executor.stream(db.scan, 'users')) console.log(row);
   */
  stream<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): TaskStream<StreamChunk<ReturnType<F>>, StreamReturn<ReturnType<F>>>;
  /** Stops taking tasks; see ShutdownOptions. Idempotent. */
  shutdown(options?: ShutdownOptions): Promise<void>;
  /** Counters and timings. */
  stats(): ExecutorStats;
  /** Resolves when no task is waiting in the queue. */
  drained(): Promise<void>;
  /** Resolves when no task is queued or running. */
  idle(): Promise<void>;
}

/** Options shared by ThreadPoolExecutor and ProcessPoolExecutor. */
export interface ExecutorOptions {
  /** Most workers at once: a finite integer >= 1. Default `os.availableParallelism()`. */
  maxWorkers?: number | undefined;
  /** Workers kept alive when idle (started lazily). Default 0. */
  minWorkers?: number | undefined;
  /** Idle workers above `minWorkers` exit after this long (`Infinity`: never). Default 30,000 ms. */
  idleTimeoutMs?: number | undefined;
  /** Most tasks waiting for a worker; `submit` beyond it throws `QueueFullError`. Default `Infinity` (unbounded). */
  maxQueue?: number | undefined;
  /** Run once in each worker before its first task; if it fails the executor is broken. */
  initializer?: Runnable<AnyFunction> | undefined;
  /** Arguments of the initializer. */
  initArgs?: unknown[] | undefined;
  /** A name for the workers (thread names, error messages). */
  name?: string | undefined;
  /** Environment of the workers. Default: a copy of `process.env`. */
  env?: Record<string, string | undefined>;
  /** Node.js flags of the workers. */
  execArgv?: string[] | undefined;
  /** How long an aborted or timed-out task may take to stop before its worker is terminated. Default 1,000 ms. */
  abortGraceMs?: number | undefined;
  /** Replace a worker after it has run this many tasks (for leaky native code). Default `Infinity` (never). */
  maxTasksPerWorker?: number | undefined;
  /**
   * Append the submitting call's stack to a task's error stack. It costs a stack capture on
   * every submit (~3 µs), so it is off by default; turn it on while debugging.
   */
  callerStacks?: boolean | undefined;
  /**
   * A future of this executor that failed and is garbage-collected (or still alive at exit)
   * without anyone having looked at its error — awaited it, `then`/`catch`, `result()`,
   * `exception()` — emits a `THREADLOOP_UNOBSERVED_FAILURE` process warning naming the task and
   * the error (`'warn'`, the default), or nothing (`'ignore'`). Cancelled and aborted futures
   * never warn. For every future of the process: `node --disable-warning=THREADLOOP_UNOBSERVED_FAILURE`.
   */
  unobservedFailures?: UnobservedFailures | undefined;
}

/** Options only thread pools take. */
export interface ThreadPoolOptions extends ExecutorOptions {
  /** Heap limits of each worker thread; overflowing fails its tasks with `WorkerCrashedError`. */
  resourceLimits?: ResourceLimits | undefined;
  /** The worker thread's entry script, for bundled apps that move threadloop's files. */
  workerEntry?: URL | string | undefined;
  /**
   * How long an idle worker spins, watching for its next call, before it sleeps in its event
   * loop: waking a sleeping thread costs tens of microseconds (far more on a VM), so back-to-back
   * small tasks run much faster. Bounded and adaptive (it backs off when nothing comes), and at
   * most one worker per core but one spins at a time. `0` turns it off, for instance where CPU
   * time is metered. Default 0.1 ms, at most 1.
   */
  idleSpinMs?: number | undefined;
}

/** Options after validation, with defaults filled in. @internal */
export interface ResolvedOptions {
  maxWorkers: number;
  minWorkers: number;
  idleTimeoutMs: number;
  maxQueue: number;
  initializer: Runnable<AnyFunction> | undefined;
  initArgs: unknown[];
  name: string;
  env: Record<string, string | undefined> | undefined;
  execArgv: string[] | undefined;
  abortGraceMs: number;
  maxTasksPerWorker: number;
  callerStacks: boolean;
  unobservedFailures: UnobservedFailures;
}

const commonKeys = [
  'maxWorkers', 'minWorkers', 'idleTimeoutMs', 'maxQueue', 'initializer', 'initArgs', 'name',
  'env', 'execArgv', 'abortGraceMs', 'maxTasksPerWorker', 'callerStacks', 'unobservedFailures',
];

// Per thread, not per copy of threadloop (wire/thread-state.ts): default names stay unique.
const names = perThread('executor-names', 1, () => ({ count: 0 }));

/**
 * Validates options at construction, naming the option at fault, and fills in defaults.
 * `extraKeys` are the options a particular executor adds. @internal
 */
export function resolveOptions(kind: string, options: ExecutorOptions, extraKeys: string[]): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${kind} options must be an object, got ${describe(options)}`);
  }
  refuseUnknownOptions(kind, options, new Set([...commonKeys, ...extraKeys]));
  const maxWorkers = count(kind, 'maxWorkers', options.maxWorkers, availableParallelism(), 1);
  const minWorkers = count(kind, 'minWorkers', options.minWorkers, 0, 0);
  if (minWorkers > maxWorkers) {
    throw new RangeError(`${kind}: minWorkers (${minWorkers}) must not exceed maxWorkers (${maxWorkers})`);
  }
  const { initializer, initArgs = [], name, env, execArgv, callerStacks = false } = options;
  if (initializer !== undefined && typeof initializer !== 'function' && typeof initializer !== 'object') {
    throw new TypeError(`${kind}: initializer must be a task or a function, got ${describe(initializer)}`);
  }
  if (!Array.isArray(initArgs)) throw new TypeError(`${kind}: initArgs must be an array, got ${describe(initArgs)}`);
  if (name !== undefined && typeof name !== 'string') throw new TypeError(`${kind}: name must be a string, got ${describe(name)}`);
  checkEnvAndFlags(kind, env, execArgv);
  if (typeof callerStacks !== 'boolean') throw new TypeError(`${kind}: callerStacks must be a boolean`);
  const unobservedFailures = checkUnobservedFailures(kind, options.unobservedFailures);
  return {
    maxWorkers,
    minWorkers,
    idleTimeoutMs: duration(kind, 'idleTimeoutMs', options.idleTimeoutMs, 30_000),
    maxQueue: count(kind, 'maxQueue', options.maxQueue, Infinity, 0, true),
    initializer,
    initArgs,
    name: name ?? `threadloop-${++names.count}`,
    env,
    execArgv,
    abortGraceMs: duration(kind, 'abortGraceMs', options.abortGraceMs, 1_000),
    maxTasksPerWorker: count(kind, 'maxTasksPerWorker', options.maxTasksPerWorker, Infinity, 1, true),
    callerStacks,
    unobservedFailures,
  };
}

/** Validates an `unobservedFailures` option; default `'warn'`. @internal */
export function checkUnobservedFailures(kind: string, value: unknown): UnobservedFailures {
  if (value === undefined) return 'warn';
  if (value !== 'warn' && value !== 'ignore') {
    throw new TypeError(`${kind}: unobservedFailures must be 'warn' or 'ignore', got ${describe(value)}`);
  }
  return value;
}


/**
 * A count option: an integer >= `min`. `Infinity` only where `unbounded` says it means "no
 * limit" (maxQueue, maxTasksPerWorker); a pool size must be finite, or the pool would spawn
 * threads without end.
 */
function count(kind: string, name: string, value: unknown, fallback: number, min: number, unbounded = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${kind}: ${name} must be a number, got ${describe(value)}`);
  }
  if (value === Infinity && unbounded) return value;
  if (!Number.isFinite(value)) throw new RangeError(`${kind}: ${name} must be a finite integer, got ${value}`);
  if (!Number.isInteger(value)) throw new RangeError(`${kind}: ${name} must be an integer, got ${value}`);
  if (value < min) throw new RangeError(`${kind}: ${name} must be >= ${min}, got ${value}`);
  return value;
}

/** A delay option in milliseconds: any number >= 0; `Infinity` means never. @internal */
export function duration(kind: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${kind}: ${name} must be a number of milliseconds, got ${describe(value)}`);
  }
  if (value < 0) throw new RangeError(`${kind}: ${name} must be >= 0, got ${value}`);
  return value; // any length: threadloop's timers (core/timers.ts) honour 2^31 ms and more; Infinity is never
}

/** Throws unless `env` is an object (of strings) and `execArgv` an array of strings, where given. @internal */
export function checkEnvAndFlags(kind: string, env: unknown, execArgv: unknown): void {
  if (env !== undefined && (typeof env !== 'object' || env === null)) {
    throw new TypeError(`${kind}: env must be an object of strings, got ${describe(env)}`);
  }
  if (execArgv !== undefined && (!Array.isArray(execArgv) || execArgv.some((a) => typeof a !== 'string'))) {
    throw new TypeError(`${kind}: execArgv must be an array of strings`);
  }
}
