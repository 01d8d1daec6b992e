/**
 * `QueueExecutor.map`: a bounded window of jobs over a lazy input, the same contract as a pool's
 * `map` (ordered by default, a deadline for the whole map, leaving early cancels the rest).
 */
import { checkTimeout, describe, TimeoutError, type Future, type MapOptions } from './internals.js';

/** Validated `map` options. @internal */
export interface MapSettings {
  readonly chunkSize: number;
  readonly timeoutMs: number | undefined;
  readonly ordered: boolean;
  readonly window: number;
}

/** Checks `map`'s arguments at the call. @internal */
export function checkMapOptions(items: unknown, options: MapOptions, defaultWindow: number): MapSettings {
  const chunkSize = options.chunkSize ?? 1;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`map: chunkSize must be an integer >= 1, got ${describe(chunkSize)}`);
  const timeoutMs = checkTimeout(options.timeoutMs);
  const window = options.concurrency ?? defaultWindow;
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`map: concurrency must be an integer >= 1, got ${describe(window)}`);
  if (items === null || typeof items !== 'object' || (typeof (items as Iterable<unknown>)[Symbol.iterator] !== 'function' && typeof (items as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function')) {
    throw new TypeError(`map: items must be an iterable or async iterable, got ${describe(items)}`);
  }
  return { chunkSize, timeoutMs, ordered: options.ordered ?? true, window };
}

/** What the loop needs from its executor. @internal */
export interface MapSource<T> extends MapSettings {
  readonly items: Iterable<T> | AsyncIterable<T>;
  room(): Promise<void>;
  submitOne(item: T): Future<unknown>;
  submitChunk(chunk: T[]): Future<unknown>;
}

/** The map's generator. @internal */
export async function* mapLoop<T, R>(map: MapSource<T>): AsyncGenerator<Awaited<R>> {
  const { items, chunkSize, timeoutMs, ordered, window } = map;
  const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
  const source = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]();
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
        await map.room();
        const future = chunkSize > 1 ? map.submitChunk(chunk) : map.submitOne(chunk[0]!);
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
        while (finished.length === 0) await untilDeadline(new Promise<void>((r) => (wakeUnordered = r)), deadline, timeoutMs);
        next = finished.shift()!;
      }
      await untilDeadline(next.exception().then(() => undefined, () => undefined), deadline, timeoutMs);
      inFlight.splice(inFlight.indexOf(next), 1);
      const value = await next;
      if (chunkSize > 1) yield* value as Awaited<R>[];
      else yield value as Awaited<R>;
    }
  } finally {
    for (const future of inFlight) future.cancel();
    if (!exhausted) await source.return?.();
  }
}

async function untilDeadline(waiting: Promise<void>, deadline: number, timeoutMs: number | undefined): Promise<void> {
  if (deadline === Infinity) return waiting;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`map did not finish within ${timeoutMs} ms`)), Math.max(0, deadline - performance.now()));
  });
  try {
    await Promise.race([waiting, expired]);
  } finally {
    clearTimeout(timer);
  }
}
