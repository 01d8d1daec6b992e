// threading.Lock guarding a shared counter, from several threads and the main loop.
//
// `counter[0] = counter[0] + 1` is a read-modify-write: two threads doing it at once lose
// updates. A Mutex makes it exact. Worker threads block with acquireSync (fine on a worker); the
// main loop awaits acquire() and even awaits inside its critical section — the lock is held
// across the await, and no thread can slip in.
//
// Run: npm run build && node examples/lock-shared-counter.js
import { Mutex, ThreadPoolExecutor } from 'threadloop';

const THREADS = 4;
const PER_THREAD = 1000;
const MAIN = 1000;

const ex = new ThreadPoolExecutor({ maxWorkers: THREADS });
const lock = new Mutex();
const counter = new Int32Array(new SharedArrayBuffer(4)); // shared memory, plain reads and writes

const workers = Array.from({ length: THREADS }, () =>
  ex.submit((lock, counter, n) => {
    for (let i = 0; i < n; i++) {
      lock.runExclusiveSync(() => {
        const value = counter[0];
        counter[0] = value + 1;
      });
    }
    return n;
  }, lock, counter, PER_THREAD),
);

for (let i = 0; i < MAIN; i++) {
  const guard = await lock.acquire();
  try {
    const value = counter[0];
    await null; // yield to the event loop while holding the lock
    counter[0] = value + 1;
  } finally {
    guard.release();
  }
}

await Promise.all(workers);
await ex.shutdown();
const expected = THREADS * PER_THREAD + MAIN;
console.log(`${THREADS} threads x ${PER_THREAD} + main loop x ${MAIN} increments`);
console.log(`total = ${counter[0]} (expected ${expected})`);
console.log(`lock free at the end: ${!lock.locked}`);
