/**
 * `wait` and `asCompleted` over futures, as in `concurrent.futures`. Cancelled futures count as
 * done, so neither can hang on one (CPython gh-92001).
 */
import { after, type Timer } from '../core/timers.js';
import { TimeoutError } from '../wire/errors.js';
import { checkTimeout, type Future } from '../core/future.js';

/** When `wait` returns. */
export type ReturnWhen = 'FIRST_COMPLETED' | 'FIRST_EXCEPTION' | 'ALL_COMPLETED';

/** The futures that are done, and those that are not, when `wait` returned. */
export interface WaitResult<T> {
  done: Set<Future<T>>;
  notDone: Set<Future<T>>;
}

/** Whether a done future failed; asking is not looking at its error (core/unobserved.ts). */
function failed<T>(future: Future<T>): boolean {
  if (future.cancelled()) return false;
  try {
    future.peek();
    return false;
  } catch {
    return true;
  }
}

/**
 * Waits until the futures are done (`ALL_COMPLETED`, the default), one is (`FIRST_COMPLETED`),
 * or one fails (`FIRST_EXCEPTION`), or `timeoutMs` passes; never rejects.
 *
 * @example
 * const { done, notDone } = await wait(futures, { returnWhen: 'FIRST_COMPLETED', timeoutMs: 500 });
 */
export function wait<T>(
  futures: Iterable<Future<T>>,
  options: { timeoutMs?: number | undefined; returnWhen?: ReturnWhen | undefined } = {},
): Promise<WaitResult<T>> {
  const timeoutMs = checkTimeout(options.timeoutMs);
  const returnWhen = options.returnWhen ?? 'ALL_COMPLETED';
  if (!['FIRST_COMPLETED', 'FIRST_EXCEPTION', 'ALL_COMPLETED'].includes(returnWhen)) {
    throw new RangeError(`wait: returnWhen must be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED, got ${String(returnWhen)}`);
  }
  const all = new Set(futures);
  const split = (): WaitResult<T> => {
    const done = new Set<Future<T>>();
    const notDone = new Set<Future<T>>();
    for (const f of all) (f.done() ? done : notDone).add(f);
    return { done, notDone };
  };
  const satisfied = (): boolean => {
    let doneCount = 0;
    for (const f of all) {
      if (!f.done()) continue;
      doneCount++;
      if (returnWhen === 'FIRST_COMPLETED') return true;
      if (returnWhen === 'FIRST_EXCEPTION' && failed(f)) return true;
    }
    return doneCount === all.size;
  };
  if (satisfied()) return Promise.resolve(split());
  return new Promise((resolve) => {
    let timer: Timer | undefined;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      timer?.clear();
      resolve(split());
    };
    if (timeoutMs !== undefined) timer = after(timeoutMs, finish);
    for (const f of all) f.addDoneCallback(() => { if (satisfied()) finish(); });
  });
}

/**
 * A future as `asCompleted` yields it: the Future itself, done, typed so that TypeScript does not
 * read it as its result. (TypeScript types a `for await` loop's value as what awaiting it would
 * give, and a Future is a Promise: typed `Future<T>`, the loop's value would read as a `T` — one
 * that adds up, compiled, as an object.) It is a `Future<T>` wherever one is expected, a Map's key
 * or `wait`; its outcome is `result()`, `exception()`, `cancelled()`. The price: TypeScript does
 * not await it either — `await f` is typed as the future and `Promise.all` of them as `never[]`,
 * though both give values — so read it with `result()`, or widen it to `Future<T>` first.
 *
 * @example
 * for await (const f of asCompleted(futures)) console.log(urlOf.get(f), await f.result());
 */
export type DoneFuture<T> = Future<T> & { readonly then: never };

/**
 * Yields the futures as they finish (cancelled ones included). Throws `TimeoutError` if they are
 * not all done within `timeoutMs`.
 *
 * (Not an async generator: `yield` in one would await the future and yield its value instead.)
 *
 * @example
 * for await (const f of asCompleted(futures)) console.log(await f.result());
 */
export function asCompleted<T>(
  futures: Iterable<Future<T>>,
  options: { timeoutMs?: number | undefined } = {},
): AsyncIterableIterator<DoneFuture<T>> {
  const timeoutMs = checkTimeout(options.timeoutMs);
  const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
  const all = [...new Set(futures)];
  const finished: Future<T>[] = [];
  let wake: (() => void) | undefined;
  let yielded = 0;
  for (const f of all) {
    f.addDoneCallback(() => {
      finished.push(f);
      wake?.();
    });
  }
  const next = async (): Promise<IteratorResult<DoneFuture<T>, undefined>> => {
    if (yielded === all.length) return { done: true, value: undefined };
    while (finished.length === 0) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        const missing = all.length - yielded;
        yielded = all.length;
        throw new TimeoutError(`${missing} of ${all.length} futures did not finish within ${timeoutMs} ms`);
      }
      let timer: Timer | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = after(remaining, resolve);
      });
      wake = undefined;
      timer?.clear();
    }
    yielded++;
    return { done: false, value: finished.shift()! as DoneFuture<T> };
  };
  return {
    next,
    return: async () => {
      yielded = all.length;
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
