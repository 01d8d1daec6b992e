// The three places a task can be sent — a thread pool, a process pool, a loop thread — for the
// tests that must hold on each (context, tracing, streams, task groups).
import { ProcessPoolExecutor, ThreadPoolExecutor, startLoopThread } from 'threadloop';

/** `[name, start(options), stop(target)]` for each kind of target. */
export const targets = [
  ['thread pool', ({ workers = 1 } = {}) => new ThreadPoolExecutor({ maxWorkers: workers, name: 'tp' }), (t) => t.shutdown()],
  ['process pool', ({ workers = 1 } = {}) => new ProcessPoolExecutor({ maxWorkers: workers, name: 'pp' }), (t) => t.shutdown()],
  ['loop thread', () => startLoopThread({ name: 'lt' }), (t) => t.stop()],
];
