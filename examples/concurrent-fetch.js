// seed 000, combined example — 20 concurrent blocking "fetches" with to_thread + as_completed:
//
//     tasks = [asyncio.to_thread(fetch, u) for u in urls]
//     for fut in asyncio.as_completed(tasks):
//         print("完成:", await fut)
//
// Each fetch is a real blocking call (a child process answering after 100 ms, like
// requests.get); it blocks a worker thread, never the main loop.
import { ThreadPoolExecutor, asCompleted, setDefaultExecutor, taskModule, toThread } from 'threadloop';

const blocking = taskModule(new URL('./tasks/blocking.js', import.meta.url));

// The default pool has one thread per core, right for CPU work. Blocking I/O wants more threads,
// as with Python's ThreadPoolExecutor(max_workers=20).
const pool = new ThreadPoolExecutor({ maxWorkers: 10, name: 'fetch-pool' });
setDefaultExecutor(pool);

const urls = Array.from({ length: 20 }, (_, i) => `https://www.example.com/page/${i}`);
const started = performance.now();
const futures = urls.map((url) => toThread(blocking.fetchStatus, url, 100));
let ok = 0;
for await (const future of asCompleted(futures)) {
  const status = await future.result();
  if (status === 200) ok++;
  console.log(`done: ${status}`);
}
const elapsed = performance.now() - started;
console.log(`total: ${urls.length} fetches, ${ok} ok`);
console.log(`took ${Math.round(elapsed)} ms (one after another they would take at least ${urls.length * 100} ms)`);

await pool.shutdown();
