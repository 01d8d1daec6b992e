// Blocking functions for the examples: they stand for a synchronous library call (a database
// driver, requests.get, time.sleep) that would freeze the event loop if called on the main thread.
import { execFileSync } from 'node:child_process';
import { threadId } from 'node:worker_threads';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the calling thread for `ms` milliseconds, like Python's time.sleep(). */
export function sleepSync(ms) {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** seed 002: `def blocking_io(): time.sleep(2); return "done"` (shortened to 300 ms). */
export function blockingIo() {
  sleepSync(300);
  return 'done';
}

/** A named job that blocks for `ms` and reports how long it took, and on which thread. */
export function job(name, ms) {
  const started = performance.now();
  sleepSync(ms);
  return { name, ms: Math.round(performance.now() - started), thread: threadId };
}

/**
 * A blocking "HTTP request": runs a child process (a real blocking system call, like
 * requests.get) that answers with a status code after `latencyMs`.
 */
export function fetchStatus(url, latencyMs = 100) {
  const script = `setTimeout(() => process.stdout.write('200'), ${Number(latencyMs)})`;
  const status = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { URL: url } });
  return Number(status);
}

/** CPU-bound work: the naive Fibonacci. */
export function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
