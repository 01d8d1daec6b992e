// CPU-bound work on a pool vs on the main thread. In CPython a ThreadPoolExecutor does not speed
// up CPU work (the GIL); the seeds send you to ProcessPoolExecutor. JavaScript threads have no
// GIL: worker threads really run in parallel.
import { availableParallelism } from 'node:os';
import { ThreadPoolExecutor, taskModule } from 'threadloop';
import { fib } from './tasks/blocking.js';

const cpu = taskModule(new URL('./tasks/blocking.js', import.meta.url));
const cores = availableParallelism();
const jobs = Array.from({ length: Math.max(4, cores * 2) }, () => 34);

const pool = new ThreadPoolExecutor({ maxWorkers: cores, minWorkers: cores });
await Promise.all(Array.from({ length: cores }, () => pool.submit(cpu.fib, 20))); // warm up

let started = performance.now();
const serial = jobs.map((n) => fib(n));
const serialMs = performance.now() - started;

started = performance.now();
const parallel = await Promise.all(jobs.map((n) => pool.submit(cpu.fib, n)));
const parallelMs = performance.now() - started;

console.log(`${jobs.length} x fib(${jobs[0]}) on the main thread: ${Math.round(serialMs)} ms`);
console.log(`${jobs.length} x fib(${jobs[0]}) on ${cores} worker threads: ${Math.round(parallelMs)} ms`);
console.log(`speed-up: ${(serialMs / parallelMs).toFixed(1)}x with ${cores} cores`);
console.log(`results match: ${JSON.stringify(serial) === JSON.stringify(parallel)}`);

await pool.shutdown();
