// The three places a task can be sent — a thread pool, a process pool, a loop thread — for the
// tests that must hold on each (context, tracing, streams, task groups).
import { ProcessPoolExecutor, ThreadPoolExecutor, startLoopThread } from 'threadloop';

/**
 * A task that stops when asked must be given the time to, however loaded the machine: the grace
 * after which a stuck task's worker is ended (or a loop's call given up on) is not what these
 * tests are about.
 */
const abortGraceMs = 30_000;

/** `[name, start(options), stop(target)]` for each kind of target. */
export const targets = [
  ['thread pool', ({ workers = 1 } = {}) => new ThreadPoolExecutor({ maxWorkers: workers, name: 'tp', abortGraceMs }), (t) => t.shutdown()],
  ['process pool', ({ workers = 1 } = {}) => new ProcessPoolExecutor({ maxWorkers: workers, name: 'pp', abortGraceMs }), (t) => t.shutdown()],
  ['loop thread', () => startLoopThread({ name: 'lt', abortGraceMs }), (t) => t.stop()],
];
