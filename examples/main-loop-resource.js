// Seed 004: from worker threads, call back into the main loop that holds the application's
// resources (a connection pool, a session) — Python's run_coroutine_threadsafe(coro, main_loop)
// with the main loop saved at startup. Here every worker has mainLoop().
import { ThreadPoolExecutor, taskModule } from 'threadloop';

const { enrich } = taskModule(new URL('./tasks/enrich.js', import.meta.url));
const appDb = await import('./tasks/app-db.js'); // the main thread's own instance

const pool = new ThreadPoolExecutor({ maxWorkers: 2 });
const users = await Promise.all([1, 2, 3].map((id) => pool.submit(enrich, id)));
for (const u of users) console.log(`user ${u.id} ${u.name}: score ${u.score} (computed on thread ${u.thread})`);
// The workers' queries went to the application's own module instance, on the main thread:
console.log(`queries served by the main thread's pool: ${appDb.queryCount()} (expected 3)`);
await pool.shutdown();
