// threadloop task module: plain exports, addressed as `taskModule(url).<name>`. It imports
// threadloop/task, the entry point for task code, as the README says task modules should: each
// worker then loads only what its runtime has loaded already.
import { mainLoop, move, taskModule } from 'threadloop/task';
import { timedBlockingCalls } from '../lib/harness.js';
import { echo, fib, noop } from './functions.js';

export { echo, fib, noop };

const self = taskModule(import.meta.url);

/**
 * On a worker: `calls` blocking no-op calls into the main thread's loop (after at least
 * `warmup` calls and `warmupMs`), each timed here; returns their p50 and p99.
 */
export function blockOnMain(warmup, warmupMs, calls) {
  return timedBlockingCalls((i) => mainLoop().submit(self.noop, i).resultSync(), { warmup, warmupMs, calls });
}

/** Yields 0 … n-1: the streamed-results measurement. */
export async function* count(n) {
  for (let i = 0; i < n; i++) yield i;
}

/** Returns the buffer by transfer rather than by clone. */
export const echoMove = (buf) => move(buf);
