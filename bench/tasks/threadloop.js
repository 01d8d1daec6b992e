// threadloop task module: plain exports, addressed as `taskModule(url).<name>`. It imports
// threadloop/task, the entry point for task code, as the README says task modules should: each
// worker then loads only what its runtime has loaded already.
import { move } from 'threadloop/task';
import { echo, fib, noop } from './functions.js';

export { echo, fib, noop };

/** Yields 0 … n-1: the streamed-results measurement. */
export async function* count(n) {
  for (let i = 0; i < n; i++) yield i;
}

/** Returns the buffer by transfer rather than by clone. */
export const echoMove = (buf) => move(buf);
