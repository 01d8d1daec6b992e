// seed 003 §1 and §4 — threading.current_thread().name: the main coroutine on MainThread, a
// blocking call on a pool worker (Python's ThreadPoolExecutor-0_0), a task on a loop thread.
import { ThreadPoolExecutor, currentThread, runInExecutor, startLoopThread, taskModule } from 'threadloop';

const tasks = taskModule(new URL('./tasks/thread-names.js', import.meta.url));

console.log(`main coroutine runs on thread: ${currentThread().name}`);

// run_in_executor(None, blocking_io) on a pool named like Python's first default executor.
const pool = new ThreadPoolExecutor({ maxWorkers: 2, name: 'ThreadPoolExecutor-0' });
const { lines, thread } = await runInExecutor(pool, tasks.blockingIo);
for (const line of lines) console.log(line);
console.log(`task done (it ran on ${thread})`);
await pool.shutdown();

// A loop running in its own thread, named when it is started.
const loop = await startLoopThread({ name: 'background-loop' });
console.log(await loop.submit(tasks.whereAmI, 'async task'));
await loop.stop();
console.log(`main thread goes on, thread: ${currentThread().name}`);
