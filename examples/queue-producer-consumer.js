// queue.Queue between threads and coroutines, threadloop style.
//
// 1. A producer thread puts items with the blocking putSync (it is a worker: blocking is fine);
//    an async consumer on the main loop awaits q.get() — the event loop stays free meanwhile.
// 2. Pool tasks put their results into a queue as they finish; the main loop consumes them with
//    `for await`, and the queue ends when it is closed.
//
// Run: npm run build && node examples/queue-producer-consumer.js
import { ThreadPoolExecutor, ThreadQueue } from 'threadloop';

const ex = new ThreadPoolExecutor({ maxWorkers: 4 });

// --- 1. one producer thread, one async consumer --------------------------------------------
const q = new ThreadQueue({ capacity: 10 }); // a full queue makes the producer wait: backpressure
const producer = ex.submit((q, n) => {
  for (let i = 1; i <= n; i++) q.putSync({ id: i, square: i * i });
  q.close(); // no more items: the consumer's loop ends after the last one
  return n;
}, q, 1000);

let ticks = 0;
const ticker = setInterval(() => ticks++, 1); // proves the main loop keeps running while we wait
let count = 0;
let sum = 0;
for await (const item of q) {
  count++;
  sum += item.square;
}
clearInterval(ticker);
console.log(`producer put ${await producer} items`);
console.log(`consumer got ${count} items, sum of squares = ${sum} (expected ${(1000 * 1001 * 2001) / 6})`);

// --- 2. pool tasks feed a queue consumed by a loop ------------------------------------------
const results = new ThreadQueue({ capacity: 64 });
const jobs = [30, 31, 32, 33, 34, 35, 36, 37].map((n) =>
  ex.submit((n, out) => {
    // CPU work on a pool thread, result pushed as soon as it is ready
    let [a, b] = [0, 1];
    for (let i = 0; i < n; i++) [a, b] = [b, a + b];
    out.putSync({ n, fib: a });
  }, n, results),
);
Promise.all(jobs).then(() => results.close(), (err) => { results.close(); throw err; });

const byN = new Map();
for await (const { n, fib } of results) byN.set(n, fib);
console.log(`pool results received: ${byN.size} of ${jobs.length}`);
console.log(`fib(30) = ${byN.get(30)}, fib(37) = ${byN.get(37)}`);

await ex.shutdown();
console.log(`main loop stayed responsive: ${ticks > 0 ? 'yes' : 'no'}`);
