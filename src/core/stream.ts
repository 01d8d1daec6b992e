/**
 * Streamed results: the consuming side of a call whose task is an `async function*` (or returns
 * an iterable). The stream's call is an ordinary call of the call table (core/calls.ts) — its
 * future settles when the generator ends — so cancelling, aborting, timeouts and a crashed
 * thread are handled as for any call; this only buffers the chunks and hands out credit.
 *
 *     producer (other thread)          consumer (here)
 *       yield ── YIELD id chunk ──▶  buffer ──▶ for await
 *       waits for credit ◀── CREDIT id n ──  (after n chunks were taken)
 *
 * The producer starts with `highWaterMark` credits and spends one per chunk, so at most that many
 * chunks are ever unread. Leaving the `for await` early (or `return()`) stops the call: its
 * signal fires over there and its generator's `return()` runs, so its `finally` blocks do.
 */
import { AbortError } from '../wire/errors.js';
import { CallFlag } from '../wire/protocol.js';
import type { Call } from './calls.js';
import { Deque } from './deque.js';
import type { Future } from './future.js';
import type { Task } from './task.js';

/** Where a stream is: `open` (chunks may come), `ended` (its call settled), `closed` (by its consumer). */
type StreamState = 'open' | 'ended' | 'closed';

interface Reader<T> {
  resolve(result: IteratorResult<T, undefined>): void;
  reject(error: unknown): void;
}

/** The chunk type of a streamed task's result: `T` of an `AsyncIterable<T>` (or `Iterable<T>`). */
export type StreamChunk<R> = Awaited<R> extends AsyncIterable<infer T> ? T : Awaited<R> extends Iterable<infer T> ? T : never;

/**
 * What a streamed task's `stream.future` resolves with: the return value of a generator (or of
 * any iterator), `unknown` for another iterable (an array's iteration returns `undefined`).
 */
export type StreamReturn<R> = Awaited<R> extends AsyncIterator<unknown, infer U> ? U : Awaited<R> extends Iterator<unknown, infer U> ? U : unknown;

/** Default `highWaterMark`: chunks a stream may have unread before its producer pauses. */
export const DEFAULT_HIGH_WATER_MARK = 16;

/**
 * Submits `task` as a stream — `submit(args, flags)` is the executor's or loop's submit — and
 * returns its consumer. The first credit (`highWaterMark`) goes with the call. @internal
 */
export function openStream<T, R = unknown>(task: Task, args: unknown[], flags: number, submit: (args: unknown[], flags: number) => Future<unknown>): TaskStream<T, R> {
  const highWaterMark = task.options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  return new TaskStream<T, R>(submit([...args, highWaterMark], flags | CallFlag.Stream) as Future<R>, highWaterMark);
}

/**
 * The chunks of a streamed task, for `for await`. Made by `executor.stream()` and `loop.stream()`.
 *
 * @example
 * for await (const line of pool.stream(files.lines, '/var/log/big.log')) {
 *   if (line.includes('FATAL')) break; // the generator's finally runs on the worker
 * }
 */
export class TaskStream<T, R = unknown> implements AsyncIterableIterator<T, undefined>, AsyncDisposable {
  readonly #buffer = new Deque<T>();
  readonly #readers: Reader<T>[] = [];
  #state: StreamState = 'open';
  /** How the call ended, once it did: the error it failed with, if it failed. */
  #failed = false;
  #error: unknown = undefined;
  /** Whether the consumer has been given that error (it is thrown once, then the stream is done). */
  #failedSeen = false;
  /** Chunks taken since credit was last sent back. */
  #taken = 0;
  readonly #call: Call | undefined;
  readonly #creditEvery: number;

  /** @internal streams are made by `executor.stream()` and `loop.stream()` */
  constructor(
    /** Settles when the task ends: with its generator's return value, or its error. */
    readonly future: Future<R>,
    readonly highWaterMark: number,
  ) {
    // Credit goes back in batches of half the window: one op per chunk would double the traffic.
    this.#creditEvery = Math.max(1, highWaterMark >> 1);
    const call = future.link as Call | undefined;
    this.#call = call;
    if (call !== undefined) call.stream = this as TaskStream<unknown, unknown>;
    // Not then(): that would count as looking at a failure the consumer may never read
    // (core/unobserved.ts); the stream marks it looked at when it hands the error over.
    future.addDoneCallback((done) => {
      try {
        done.peek();
        this.#end(false, undefined);
      } catch (error) {
        this.#end(true, error);
      }
    });
  }

  /** A chunk arrived. @internal */
  push(chunk: T): void {
    if (this.#state === 'closed') return;
    const reader = this.#readers.shift();
    if (reader === undefined) {
      this.#buffer.push(chunk);
      return;
    }
    this.#took();
    reader.resolve({ value: chunk, done: false });
  }

  /** The next chunk, once the task has yielded it; done when the task's generator has returned. */
  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#buffer.size > 0) {
      const value = this.#buffer.shift()!;
      this.#took();
      return Promise.resolve({ value, done: false });
    }
    if (this.#state === 'open') return new Promise((resolve, reject) => this.#readers.push({ resolve, reject }));
    return this.#done();
  }

  /**
   * Stops the stream: a call not started yet never runs; a running one has its signal fired and
   * its generator's `return()` run over there. Resolves once it has stopped (or, for a task that
   * ignores it, when the executor or loop gives up on it after `abortGraceMs`).
   */
  async return(): Promise<IteratorResult<T, undefined>> {
    this.future.markObserved(); // the consumer leaves: what the call ends with is dropped on purpose
    if (this.#state === 'open') {
      this.#state = 'closed';
      this.#buffer.drain();
      const call = this.#call;
      if (call !== undefined && call.state !== 'settled') {
        call.table.stop(call, new AbortError(`the stream of task '${call.task.name}' was closed by its consumer`));
      }
      for (const reader of this.#readers.splice(0)) reader.resolve({ value: undefined, done: true });
      await this.future.then(() => {}, () => {});
    }
    return { value: undefined, done: true };
  }

  /** The stream is its own iterator: `for await (const chunk of stream)`. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /** `await using stream = pool.stream(...)` stops it at the end of the block if still open. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  #took(): void {
    if (++this.#taken < this.#creditEvery) return;
    const call = this.#call;
    if (call !== undefined && call.endpoint !== undefined && (call.state === 'running' || call.state === 'sent')) {
      call.endpoint.sender.credit(call.id, this.#taken);
    }
    this.#taken = 0;
  }

  #end(failed: boolean, error: unknown): void {
    if (this.#state !== 'open') return;
    this.#state = 'ended';
    this.#failed = failed;
    this.#error = error;
    const readers = this.#readers.splice(0);
    if (failed && readers.length > 0) this.#handOver();
    for (const reader of readers) {
      if (failed) reader.reject(error);
      else reader.resolve({ value: undefined, done: true });
    }
  }

  /** The consumer is given the error: it has been looked at. */
  #handOver(): void {
    this.#failedSeen = true;
    this.future.markObserved();
  }

  /** After the last chunk: the error (once), then done. */
  #done(): Promise<IteratorResult<T, undefined>> {
    if (this.#failed && !this.#failedSeen) {
      this.#handOver();
      return Promise.reject(this.#error);
    }
    return Promise.resolve({ value: undefined, done: true });
  }
}
