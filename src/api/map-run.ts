/**
 * One run of `executor.map` / `starmap`: lazy and bounded, like Python 3.14's
 * `map(..., buffersize=n)`.
 *
 * - Calling `map()` starts the work at once, up to its window; then items are pulled from the
 *   input (sync or async) only as results are taken, so an endless or huge input is fine.
 * - Results come in input order, or as they finish (`ordered: false`). Chunks of items travel as
 *   one call (`chunkSize`), their results are yielded one by one.
 * - Leaving the loop early, an error, or the deadline (`timeoutMs`) cancels what has not started.
 * - A map begun before the executor's `shutdown()` completes: from then on it submits the rest of
 *   its input at once, as Python's map would have, so the shutdown waits only for work, never for
 *   the consumer (unless `cancelFutures`, which cancels it).
 */
import type { MapOptions } from '../core/executor.js';
import { checkTimeout, describe, refuseUnknownOptions, type Future } from '../core/future.js';
import { after } from '../core/timers.js';
import { CancelledError, TimeoutError } from '../wire/errors.js';

/** What a map run needs from its executor. */
export interface MapHost<I> {
  /** Submits one chunk of items as one call (as a map begun before shutdown may). */
  submit(chunk: I[]): Future<unknown>;
  /** Waits for room in a bounded queue; undefined when there is room now. */
  room(): Promise<void> | undefined;
  /**
   * Registers the run as able to submit; `onShutdown(false)` makes it submit the rest at once,
   * `onShutdown(true)` cancels it (a shutdown that cancels futures).
   */
  openMap(onShutdown: (cancelled: boolean) => void): { close(): void };
}

/** How a run goes. */
export interface MapSettings {
  chunkSize: number;
  /** Most calls in flight at once. */
  window: number;
  ordered: boolean;
  timeoutMs: number | undefined;
}

const MAP_OPTIONS = new Set(['chunkSize', 'timeoutMs', 'ordered', 'concurrency']);

/**
 * Checks `map`'s (`starmap`'s: `what`) items and options at the call, for every executor; the
 * window is `concurrency`, else `defaultWindow`. A misspelt option is named, not ignored. @internal
 */
export function checkMapOptions(what: string, items: unknown, options: MapOptions, defaultWindow: number): MapSettings {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${what}: options must be an object, got ${describe(options)}`);
  refuseUnknownOptions(what, options, MAP_OPTIONS);
  const chunkSize = options.chunkSize ?? 1;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`${what}: chunkSize must be an integer >= 1, got ${describe(chunkSize)}`);
  const timeoutMs = checkTimeout(options.timeoutMs);
  const window = options.concurrency ?? defaultWindow;
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`${what}: concurrency must be an integer >= 1, got ${describe(window)}`);
  const ordered = options.ordered ?? true;
  if (typeof ordered !== 'boolean') throw new TypeError(`${what}: ordered must be a boolean, got ${describe(ordered)}`);
  if (items === null || typeof items !== 'object' || (typeof (items as Iterable<unknown>)[Symbol.iterator] !== 'function' && typeof (items as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function')) {
    throw new TypeError(`${what}: items must be an iterable or async iterable, got ${describe(items)}`);
  }
  return { chunkSize, timeoutMs, ordered, window };
}

/**
 * `pulling`: filling its window; `eager`: submitting all the rest (shutdown); `ended`: no more
 * input; `closed`: the consumer left (or the run failed): an item pulled meanwhile is not submitted.
 */
type Intake = 'pulling' | 'eager' | 'ended' | 'closed';

export class MapRun<I, R> implements AsyncIterableIterator<R> {
  readonly #source: Iterator<I> | AsyncIterator<I>;
  readonly #inFlight: Future<unknown>[] = [];
  readonly #finished = new Set<Future<unknown>>();
  readonly #deadline: number;
  readonly #lease: { close(): void };
  #intake: Intake = 'pulling';
  #filling: Promise<void> | undefined = undefined;
  /** An error of the input or of a submit, thrown by the next `next()`. */
  #failure: { error: unknown } | undefined = undefined;
  #wake: (() => void) | undefined = undefined;
  /** Results of the chunk being yielded. */
  #buffer: R[] = [];
  /** The `next()` calls before this one: they are answered one at a time, in order. */
  #reading: Promise<unknown> = Promise.resolve();

  constructor(
    readonly host: MapHost<I>,
    items: Iterable<I> | AsyncIterable<I>,
    readonly settings: MapSettings,
  ) {
    this.#source = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : (items as Iterable<I>)[Symbol.iterator]();
    this.#deadline = settings.timeoutMs === undefined ? Infinity : performance.now() + settings.timeoutMs;
    this.#lease = host.openMap((cancelled) => {
      if (cancelled) {
        this.#failure ??= { error: new CancelledError('the map was cancelled by shutdown') };
        this.#intake = 'closed';
        this.#lease.close();
        this.#notify();
        return;
      }
      if (this.#intake === 'pulling') this.#intake = 'eager';
      this.#fill();
    });
    this.#fill();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<R, undefined>> {
    // Two `next()` calls at once (Promise.all, a parallel consumer) must not share one wake-up.
    const result = this.#reading.then(() => this.#next());
    this.#reading = result.catch(() => {});
    return result;
  }

  async #next(): Promise<IteratorResult<R, undefined>> {
    try {
      if (this.#buffer.length > 0) return { done: false, value: this.#buffer.shift()! };
      for (;;) {
        const next = this.#nextDone();
        if (next !== undefined) {
          this.#inFlight.splice(this.#inFlight.indexOf(next), 1);
          this.#finished.delete(next);
          this.#fill();
          const value = await next;
          if (this.settings.chunkSize === 1) return { done: false, value: value as R };
          this.#buffer = value as R[];
          if (this.#buffer.length > 0) return { done: false, value: this.#buffer.shift()! };
          continue;
        }
        // An input or submit error comes in its place: after the results of the items before it.
        if (this.#failure !== undefined && (this.#inFlight.length === 0 || !this.settings.ordered)) throw this.#failure.error;
        if (this.#inFlight.length === 0 && this.#ended() && this.#filling === undefined) {
          this.#end();
          return { done: true, value: undefined };
        }
        await this.#changed();
      }
    } catch (error) {
      await this.return();
      throw error;
    }
  }

  async return(): Promise<IteratorResult<R, undefined>> {
    // What cannot be cancelled any more is dropped unseen: its failure is the map's to drop, as
    // the consumer left (core/unobserved.ts would report it otherwise).
    for (const future of this.#inFlight) if (!future.cancel()) future.markObserved();
    this.#inFlight.length = 0;
    const ended = this.#ended();
    this.#intake = 'closed';
    this.#end();
    this.#notify(); // a next() waiting meanwhile ends too
    if (!ended) await this.#source.return?.();
    return { done: true, value: undefined };
  }

  #ended(): boolean {
    return this.#intake === 'ended' || this.#intake === 'closed';
  }

  /** The future to yield next, if it is done: the first (ordered) or any finished one. */
  #nextDone(): Future<unknown> | undefined {
    if (this.settings.ordered) {
      const first = this.#inFlight[0];
      return first?.done() === true ? first : undefined;
    }
    for (const future of this.#finished) return future;
    return undefined;
  }

  /** Resolves when a call finishes, the intake changes, or the deadline passes (TimeoutError). */
  #changed(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const remaining = this.#deadline - performance.now();
      if (remaining <= 0) {
        reject(new TimeoutError(`map did not finish within ${this.settings.timeoutMs} ms`));
        return;
      }
      const timer = after(remaining, () => reject(new TimeoutError(`map did not finish within ${this.settings.timeoutMs} ms`)));
      this.#wake = () => {
        timer.clear();
        this.#wake = undefined;
        resolve();
      };
    });
  }

  #notify(): void {
    this.#wake?.();
  }

  /** Submits more of the input while the window (or, eager, anything) allows; one fill at a time. */
  #fill(): void {
    if (this.#filling !== undefined || this.#ended()) return;
    this.#filling = this.#pull().then(
      () => {
        this.#filling = undefined;
        this.#notify();
        if (!this.#ended() && this.#hasWindow()) this.#fill();
      },
      (error: unknown) => {
        this.#filling = undefined;
        this.#failure ??= { error };
        this.#intake = 'closed';
        this.#lease.close(); // nothing more will be submitted: a shutdown must not wait for the consumer
        this.#notify();
      },
    );
  }

  #hasWindow(): boolean {
    return this.#intake === 'eager' || this.#inFlight.length < this.settings.window;
  }

  async #pull(): Promise<void> {
    while (!this.#ended() && this.#hasWindow()) {
      const chunk: I[] = [];
      while (chunk.length < this.settings.chunkSize) {
        // No await where nothing needs one: a sync input is submitted within the call to map().
        const step = this.#source.next();
        const next = step instanceof Promise ? await step : (step as IteratorResult<I>);
        if (this.#intake === 'closed') return; // the consumer left while the input was pulled
        if (next.done === true) {
          this.#intake = 'ended';
          break;
        }
        chunk.push(next.value);
      }
      if (chunk.length > 0) {
        const room = this.host.room();
        if (room !== undefined) await room;
        if (this.#intake === 'closed') return;
        const future = this.host.submit(chunk);
        this.#inFlight.push(future);
        future.addDoneCallback(() => {
          this.#finished.add(future);
          this.#notify();
        });
      }
    }
    if (this.#ended()) this.#lease.close(); // all submitted: shutdown waits for the work only
  }

  #end(): void {
    this.#lease.close();
    this.#finished.clear();
  }
}
