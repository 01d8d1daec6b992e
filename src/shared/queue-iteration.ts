/** Iterating a ThreadQueue with `for await`: items until it is closed and drained. */
import { QueueClosedError } from '../wire/errors.js';

/**
 * An async iterator over what `get()` returns, done at the first `QueueClosedError` (the queue
 * is closed and drained); any other error is thrown to the loop.
 */
export function itemsUntilClosed<T>(get: () => Promise<T>): AsyncIterator<T, undefined> {
  let done = false;
  const finish = (err: unknown): IteratorResult<T, undefined> => {
    if (!(err instanceof QueueClosedError)) throw err;
    done = true;
    return { done: true, value: undefined };
  };
  return {
    next: (): Promise<IteratorResult<T, undefined>> => {
      if (done) return Promise.resolve({ done: true, value: undefined });
      return get().then((value) => ({ done: false, value }), finish);
    },
    return: (): Promise<IteratorResult<T, undefined>> => {
      done = true;
      return Promise.resolve({ done: true, value: undefined });
    },
  };
}
