// Stopping a task that is already running. Python cannot: `future.cancel()` only withdraws work
// that has not started, and a running thread cannot be killed (seed 000: "在线程中运行的阻塞函数
// 无法被强制取消"). threadloop can, in two ways:
//
// 1. cooperatively: abort the task's signal; the task sees `currentTask().signal` and returns;
// 2. by force: a task that never checks (here `for (;;) {}`) has its worker terminated after a
//    grace period, and the pool starts a fresh one.
import { AbortError, ThreadPoolExecutor, TimeoutError, taskModule } from 'threadloop';

const jobs = taskModule(new URL('./tasks/jobs.js', import.meta.url));
const pool = new ThreadPoolExecutor({ maxWorkers: 2, abortGraceMs: 1000 });

// 1. Cooperative: a 100-step job, aborted after about 5 steps.
const progress = new Int32Array(new SharedArrayBuffer(8));
const controller = new AbortController();
const future = pool.submit(jobs.longJob.with({ signal: controller.signal }), progress, 100);
while (Atomics.load(progress, 0) < 5) await new Promise((resolve) => setTimeout(resolve, 10));
controller.abort(new Error('user pressed cancel'));
try {
  await future;
  console.log('cooperative: the job finished?!');
} catch (error) {
  console.log(`cooperative: ${error instanceof AbortError ? 'AbortError' : error.name} (cause: ${error.cause?.message})`);
}
console.log(`the job noticed the abort: ${Atomics.load(progress, 1) === 1 ? 'yes' : 'no'}, after ${Atomics.load(progress, 0)} of 100 steps`);

// 2. Forced: `for (;;) {}` never looks at its signal. timeoutMs stops it anyway.
const started = performance.now();
try {
  await pool.submit(jobs.stuck.with({ timeoutMs: 200 }));
} catch (error) {
  const ms = Math.round(performance.now() - started);
  console.log(`forced stop: ${error instanceof TimeoutError ? 'TimeoutError' : error.name} after ~${Math.round(ms / 100) * 100} ms (timeout 200 + grace 1000)`);
}

// The pool replaced the terminated worker and keeps serving.
console.log(`pool still works: 6 * 7 = ${await pool.submit((a, b) => a * b, 6, 7)}`);
const { failed, workers } = pool.stats();
console.log(`stats: failed=${failed} workers=${workers}`);
await pool.shutdown();
