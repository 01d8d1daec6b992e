/**
 * A queue worker's options, checked once at start (a bad one throws at startQueueWorker, typed
 * and named), and the small rules about a job's data that the worker applies.
 */
import { availableParallelism } from 'node:os';
import type { CancelEvent } from './cancel-event.js';
import { AbortError, checkTimeout, describe, refuseUnknownOptions, TaskSerializationError } from './internals.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, unpack, type JobData } from './payload.js';
import type { QueueConnection } from './backend.js';
import type { Executor } from './internals.js';

/** Options of `startQueueWorker`. */
export interface QueueWorkerOptions {
  /** The queue to take jobs from. */
  queue: string;
  /** `redis://…` or `postgres://…` (the scheme picks BullMQ's backend), or BullMQ connection options. */
  connection: QueueConnection;
  /** The task modules this worker runs, by portable name: `{ images: new URL('./images.js', import.meta.url) }`. */
  tasks: Record<string, URL | string>;
  /**
   * Run jobs on this executor (not shut down by the worker; a task without a producer's signal
   * whose job is handed back at `close()` is let go of, and may finish there). Default: a
   * ThreadPoolExecutor of `threads` threads.
   */
  executor?: Executor | undefined;
  /** Threads of the worker's own pool. Default `os.availableParallelism()`. */
  threads?: number | undefined;
  /** Run jobs on a ProcessPoolExecutor of this many child processes instead of threads. */
  processes?: number | undefined;
  /**
   * Jobs running at once. Default: the pool's size (`threads` or `processes`). A job waits for its
   * producer's consent to start (a trip through the server): while that trip is a fifth of its
   * jobs' run or more, the worker takes up to three times as many more ahead, so the wait does not
   * leave its pool idle; for longer jobs it takes none, which another worker can start meanwhile.
   */
  concurrency?: number | undefined;
  /**
   * Take jobs ahead of free run slots while jobs are short (default true). With `false` a worker
   * takes a job only when a run slot is free, so a job its producer sees `running` starts at once
   * and one still waiting stays `pending` (cancellable) — at the cost, for short jobs, of an idle
   * slot during each job's wait for its producer's consent.
   */
  takeAhead?: boolean | undefined;
  /** On `close()`, how long running jobs may take to finish before they go back to the queue. Default 30,000 ms; `Infinity`: as long as they take. */
  graceMs?: number | undefined;
  /** How long an aborted task may take to stop before its thread is ended (the own pool's `abortGraceMs`). Default 1,000 ms. */
  abortGraceMs?: number | undefined;
  /** BullMQ `lockDuration`: a job whose worker stops renewing its lock this long is stalled. Default 30,000 ms. */
  lockDurationMs?: number | undefined;
  /** BullMQ `stalledInterval`: how often stalled jobs are looked for. Default 30,000 ms. */
  stalledIntervalMs?: number | undefined;
  /** BullMQ `maxStalledCount`: how many times a stalled job runs again before it fails. Default 1. */
  maxStalledCount?: number | undefined;
  /** Largest serialized result in bytes. Default 1 MiB. */
  maxPayloadBytes?: number | undefined;
  /**
   * How long to wait at start — for the queue server (`startQueueWorker` then rejects with a
   * `QueueConnectionError` saying where and why), and for each task module's import (a
   * `TaskNotFoundError` naming it). Default 30,000 ms; `Infinity` waits for ever.
   */
  connectionTimeoutMs?: number | undefined;
}

const keys = new Set([
  'queue', 'connection', 'tasks', 'executor', 'threads', 'processes', 'concurrency', 'takeAhead', 'graceMs', 'abortGraceMs',
  'lockDurationMs', 'stalledIntervalMs', 'maxStalledCount', 'maxPayloadBytes', 'connectionTimeoutMs',
]);

/** A job its producer can abort (its task had a signal) or time out: its task runs with a signal. */
export function abortableJob(data: JobData): boolean {
  return data.s === 1 || data.t !== undefined;
}

export function cancelError(event: CancelEvent): AbortError {
  return new AbortError(event.why === 'cancel' ? 'the job was cancelled by its producer' : `the job was aborted by its producer: ${event.reason}`);
}

export function unpackArgs(data: JobData, name: string): unknown[] {
  try {
    const args = unpack(data.a);
    if (!Array.isArray(args)) throw new TypeError('not an argument list');
    return args;
  } catch (error) {
    throw new TaskSerializationError(`job '${name}' carries arguments this worker cannot read (not made by a threadloop QueueExecutor?): ${(error as Error).message}`, { cause: error });
  }
}

/** The options, checked, with their defaults filled in. */
export function checkOptions(options: QueueWorkerOptions) {
  if (typeof options !== 'object' || options === null) throw new TypeError(`startQueueWorker options must be an object, got ${describe(options)}`);
  refuseUnknownOptions('startQueueWorker', options, keys);
  const { queue, tasks } = options;
  if (typeof queue !== 'string' || queue === '') throw new TypeError(`startQueueWorker: queue must be a non-empty string, got ${describe(queue)}`);
  if (typeof tasks !== 'object' || tasks === null || Object.keys(tasks).length === 0) {
    throw new TypeError("startQueueWorker: tasks must name at least one task module, e.g. { images: new URL('./images.js', import.meta.url) }");
  }
  if (options.executor !== undefined && (options.threads !== undefined || options.processes !== undefined)) {
    throw new TypeError('startQueueWorker: threads and processes size the worker\'s own pool; they cannot be combined with executor');
  }
  if (options.threads !== undefined && options.processes !== undefined) throw new TypeError('startQueueWorker: give threads or processes, not both');
  if (options.takeAhead !== undefined && typeof options.takeAhead !== 'boolean') throw new TypeError(`startQueueWorker: takeAhead must be a boolean, got ${describe(options.takeAhead)}`);
  const int = (name: string, value: number | undefined, fallback: number, min: number) => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < min) throw new RangeError(`startQueueWorker: ${name} must be an integer >= ${min}, got ${describe(value)}`);
    return value;
  };
  const poolSize = int('threads', options.threads, availableParallelism(), 1);
  const size = options.processes !== undefined ? int('processes', options.processes, 1, 1) : poolSize;
  return {
    poolSize,
    concurrency: int('concurrency', options.concurrency, options.executor !== undefined ? availableParallelism() : size, 1),
    takeAhead: options.takeAhead ?? true,
    graceMs: checkTimeout(options.graceMs ?? 30_000, 'startQueueWorker: graceMs') ?? Infinity,
    abortGraceMs: int('abortGraceMs', options.abortGraceMs, 1_000, 0),
    lockDurationMs: int('lockDurationMs', options.lockDurationMs, 30_000, 1),
    stalledIntervalMs: int('stalledIntervalMs', options.stalledIntervalMs, 30_000, 1),
    maxStalledCount: int('maxStalledCount', options.maxStalledCount, 1, 0),
    maxPayloadBytes: int('maxPayloadBytes', options.maxPayloadBytes, DEFAULT_MAX_PAYLOAD_BYTES, 1),
    connectionTimeoutMs: checkTimeout(options.connectionTimeoutMs ?? 30_000, 'startQueueWorker: connectionTimeoutMs') ?? Infinity,
  };
}
