// seed 000 §2 / seed 002 §1 — loop.run_in_executor(pool, fetch, url) with a custom
// ThreadPoolExecutor(max_workers=...), and run_in_executor(None, ...) on the default pool.
import { ThreadPoolExecutor, runInExecutor, taskModule } from 'threadloop';

const blocking = taskModule(new URL('./tasks/blocking.js', import.meta.url));

// A pool sized for blocking I/O: more threads than cores is fine when they mostly wait.
const pool = new ThreadPoolExecutor({ maxWorkers: 4, name: 'io-pool' });

const future = runInExecutor(pool, blocking.job, 'custom', 100);
console.log(`submitted to ${pool.name}: state ${future.state}`);
const custom = await future;
console.log(`custom pool: job ${custom.name} blocked ${custom.ms >= 95 ? '~100' : custom.ms} ms`);

// Four jobs go to four threads and run side by side: about 200 ms in all, not 800.
const started = performance.now();
const jobs = await Promise.all(['a', 'b', 'c', 'd'].map((name) => runInExecutor(pool, blocking.job, name, 200)));
const elapsed = performance.now() - started;
const threads = new Set(jobs.map((j) => j.thread)).size;
console.log(`4 jobs of 200 ms: ${jobs.map((j) => j.name).join(',')} on ${threads} threads in ${Math.round(elapsed)} ms`);

// null means the default pool, like run_in_executor(None, ...).
const onDefault = await runInExecutor(null, (n) => n * 2, 21);
console.log(`default pool: ${onDefault}`);

const { completed, failed } = pool.stats();
console.log(`io-pool stats: completed=${completed} failed=${failed}`);
await pool.shutdown(); // like pool.shutdown(wait=True)
console.log('pool shut down');
