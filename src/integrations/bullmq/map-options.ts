/**
 * `QueueExecutor.map`'s options, checked at the call. The run itself is the pools' own
 * (api/map-run.ts): the same contract, ordered by default, a deadline for the whole map,
 * leaving early cancels the rest.
 */
import { checkTimeout, describe, type MapOptions } from './internals.js';

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
