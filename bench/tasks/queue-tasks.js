// threadloop/bullmq side of the distributed section: the shared functions as a task module that
// `threadloop worker --tasks bench=bench/tasks/queue-tasks.js` runs.
export { fib, noop } from './functions.js';
