// The classic queue.Queue work queue, threadloop style: worker threads take jobs from a shared
// queue and mark each one done; the main loop puts the jobs and waits with join() until every
// one has been processed. Python:
//
//     q = queue.Queue()
//     def worker():
//         while True:
//             item = q.get(); work(item); q.task_done()
//     for _ in range(3): threading.Thread(target=worker, daemon=True).start()
//     for item in range(30): q.put(item)
//     q.join()                                    # block until all tasks are done
//
// Then the same with a PriorityQueue: urgent jobs overtake the others.
//
// Run: npm run build && node examples/queue-join-workers.js
import { ThreadPoolExecutor, ThreadQueue } from 'threadloop';

const pool = new ThreadPoolExecutor({ maxWorkers: 3 });

// --- 1. queue.Queue + task_done() + join() --------------------------------------------------
const q = new ThreadQueue();
const squares = new Int32Array(new SharedArrayBuffer(4 * 30)); // where the workers write results

// Three worker loops. A worker thread may block: getSync() waits for the next job, and the loop
// ends when the queue is closed (Python's daemon threads just die with the program instead).
const workers = [1, 2, 3].map(() =>
  pool.submit((q, squares) => {
    let handled = 0;
    for (const job of q.syncIterator()) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2); // ~2 ms of "work"
      squares[job] = job * job;
      handled++;
      q.taskDone(); // this job is processed
    }
    return handled;
  }, q, squares),
);

for (let job = 0; job < 30; job++) await q.put(job);
console.log('put 30 jobs');
await q.join(); // resolves once every job put has been marked done — the main loop never blocks
const total = squares.reduce((a, b) => a + b, 0);
console.log(`all work completed: unfinished tasks = ${q.unfinishedTasks}, sum of squares = ${total} (expected 8555)`);
q.close(); // let the worker loops end
const handled = await Promise.all(workers);
console.log(`jobs handled per worker: ${handled.join(' + ')} = ${handled.reduce((a, b) => a + b, 0)}`);

// --- 2. queue.PriorityQueue: lowest priority first, FIFO among equals --------------------------
const tasks = new ThreadQueue({ order: 'priority' });
await tasks.put('low: rebuild the search index', { priority: 9 });
await tasks.put('normal: send the newsletter', { priority: 5 });
await tasks.put('urgent: restart the database', { priority: 1 });
await tasks.put('normal: resize the avatars', { priority: 5 });
await tasks.put('urgent: page the on-call', { priority: 1 });
tasks.close();
const order = await pool.submit((tasks) => {
  const done = [];
  for (const task of tasks.syncIterator()) done.push(task);
  return done;
}, tasks);
console.log('priority order:');
for (const task of order) console.log(`  ${task}`);

await pool.shutdown();
