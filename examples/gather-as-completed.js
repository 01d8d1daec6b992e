// seed 000 / seed 003 — asyncio.gather over to_thread calls, and as_completed printing results
// as they finish.
import { ThreadPoolExecutor, asCompleted, runInExecutor, taskModule } from 'threadloop';

const blocking = taskModule(new URL('./tasks/blocking.js', import.meta.url));
const pool = new ThreadPoolExecutor({ maxWorkers: 3 });

// gather: Promise.all keeps the input order, whatever order the work finishes in.
const gathered = await Promise.all([
  runInExecutor(pool, blocking.job, 'slow', 300),
  runInExecutor(pool, blocking.job, 'fast', 100),
  runInExecutor(pool, blocking.job, 'medium', 200),
]);
console.log(`gather (input order): ${gathered.map((r) => r.name).join(', ')}`);

// as_completed: futures come back as they finish.
const futures = [
  runInExecutor(pool, blocking.job, 'slow', 600),
  runInExecutor(pool, blocking.job, 'fast', 200),
  runInExecutor(pool, blocking.job, 'medium', 400),
];
const order = [];
for await (const future of asCompleted(futures)) {
  const { name, ms } = await future.result(); // asCompleted yields the futures: result() is its value
  order.push(name);
  console.log(`finished: ${name} (${ms} ms)`);
}
console.log(`as_completed order: ${order.join(', ')}`);

await pool.shutdown();
