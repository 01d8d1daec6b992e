// Threads killed in the middle of using a shared primitive (issue 12, item 2): threadloop ends a
// worker whose task ignores its abort, and a worker can run out of memory anywhere. No primitive
// may hang the threads that go on using it, duplicate an item, or lose one that was not the
// killed thread's own operation in progress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ThreadQueue, Barrier, Semaphore, RLock, Mutex, Condition, ThreadEvent, ThreadPoolExecutor, moduleTask, AbortError } from 'threadloop';
import { eventually, prng } from './helpers/util.js';

const taskOf = (source) => moduleTask('data:text/javascript,' + encodeURIComponent(`export default ${source}`));

// Ids: run * PER_RUN + k. Run 0 is the main thread's; run r > 0 is the r-th killed producer.
const PER_RUN = 1 << 15;
const asItem = (id) => (id % 2 === 0 ? id : `#${id}`); // numbers (slot only) and strings (byte ring)
const idOf = (item) => (typeof item === 'number' ? item : Number(item.slice(1)));

const produce = taskOf(`(q, done, run, perRun) => {
  for (let k = 0; k < perRun; k++) {
    const id = run * perRun + k;
    q.putSync(id % 2 === 0 ? id : '#' + id);
    Atomics.store(done, run, k + 1);
  }
}`);
const consume = taskOf(`(q, seen, got) => {
  for (;;) {
    const item = q.getSync();
    Atomics.add(seen, typeof item === 'number' ? item : Number(item.slice(1)), 1);
    Atomics.add(got, 0, 1);
  }
}`);

/** Calls `attempt` until it returns something truthy (each call must return at once), for 10 s. */
async function soon(attempt) {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const r = attempt();
    if (r) return r;
    if (performance.now() > deadline) assert.fail('no success within 10 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

for (const [order, ROUNDS] of [['fifo', 30], ['lifo', 12], ['priority', 12]]) {
test(`ThreadQueue (${order}): producers and consumers killed mid-put and mid-get, over and over, never wedge it`, { timeout: 300_000 }, async (t) => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 2, abortGraceMs: 1 });
  const q = new ThreadQueue({ capacity: 64, order });
  const done = new Int32Array(new SharedArrayBuffer(4 * (ROUNDS + 1))); // puts completed per run
  const seen = new Int32Array(new SharedArrayBuffer(4 * PER_RUN * (ROUNDS + 1))); // gets per id
  const got = new Int32Array(new SharedArrayBuffer(4));
  const random = prng(12);
  let mainK = 0;
  const mainPut = () => asItem(mainK++);
  const take = (item) => Atomics.add(seen, idOf(item), 1);
  let slowRounds = 0;
  try {
    for (let run = 1; run <= ROUNDS; run++) {
      const started = performance.now();
      const stopProducer = new AbortController();
      const stopConsumer = new AbortController();
      const producer = pool.submit(produce.with({ signal: stopProducer.signal }), q, done, run, PER_RUN);
      const consumer = pool.submit(consume.with({ signal: stopConsumer.signal }), q, seen, got);
      // Both threads are busy putting and getting (not blocked: the queue moves) ...
      const gotBefore = Atomics.load(got, 0);
      while (Atomics.load(done, run) < 100 || Atomics.load(got, 0) < gotBefore + 100) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      // ... when each is killed, at a point of its loop nobody chose.
      const spin = performance.now() + random() * 2;
      while (performance.now() < spin);
      const [first, second] = random() < 0.5 ? [stopProducer, stopConsumer] : [stopConsumer, stopProducer];
      first.abort();
      const spin2 = performance.now() + random() * 2;
      while (performance.now() < spin2);
      second.abort();
      await assert.rejects(producer, AbortError);
      await assert.rejects(consumer, AbortError);
      // The main thread goes on using the queue: none of these may block for good. Both threads
      // are gone, so after a get there is room for a put, and after a put an item to get. (A
      // killed waiter's claim on the fairness gate may hold tryPut/tryGet off for its lease.)
      const r = await soon(() => {
        const got = q.tryGet();
        return got.ok || q.size === 0 ? got : undefined;
      });
      if (r.ok) take(r.value);
      const item = mainPut();
      await soon(() => q.tryPut(item));
      take(await q.get({ timeoutMs: 10_000 }));
      await q.put(mainPut(), { timeoutMs: 10_000 });
      if (performance.now() - started > 400) slowRounds++;
    }
  } finally {
    await pool.shutdown();
  }
  q.close();
  for (const item of q.syncIterator()) take(item);
  t.diagnostic(`${slowRounds} of ${ROUNDS} rounds took over 400 ms (a lock taken over after its lease, or a busy machine)`);

  // Nothing comes out twice, and nothing comes out that was never put.
  let missing = 0;
  const check = (run, completed, inFlight) => {
    for (let k = 0; k < PER_RUN; k++) {
      const n = seen[run * PER_RUN + k];
      assert.ok(n <= 1, `item ${run * PER_RUN + k} came out ${n} times`);
      if (k < completed) missing += 1 - n;
      else if (k >= completed + inFlight) assert.equal(n, 0, `item ${run * PER_RUN + k} was never put`);
    }
  };
  check(0, mainK, 0);
  for (let run = 1; run <= ROUNDS; run++) check(run, done[run], 1);
  // A consumer killed between taking an item and counting it takes that item with it: at most
  // one per killed consumer, and no other item is lost.
  assert.ok(missing <= ROUNDS, `${missing} items lost, more than the ${ROUNDS} killed consumers held`);
  // No taskDone() was called, so the count of unfinished tasks is the count of items put: all
  // that came out, and those lost with a killed consumer (the missing ones, and perhaps a killed
  // producer's last item) — each killed put counted exactly when its item went in.
  let cameOut = 0;
  for (const n of seen) cameOut += n;
  const lost = q.unfinishedTasks - cameOut;
  assert.ok(lost >= missing && lost <= ROUNDS, `unfinishedTasks ${q.unfinishedTasks}: ${cameOut} came out, ${missing} missing`);
});
}

test('Barrier: a party killed while it waits counts as arrived and holds no later round up', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 2, abortGraceMs: 1 });
  try {
    const b = new Barrier(2);
    for (let round = 0; round < 3; round++) {
      const stop = new AbortController();
      const doomed = pool.submit(taskOf('(b) => b.waitSync()').with({ signal: stop.signal }), b);
      await eventually(() => b.nWaiting === 1, { what: 'the worker to wait' });
      stop.abort();
      await assert.rejects(doomed, AbortError);
      // The killed party had arrived: the main thread's arrival trips the round.
      assert.equal(await b.wait({ timeoutMs: 5000 }), 1);
    }
    // Later rounds run as usual, with a live worker.
    const live = pool.submit((b) => [b.waitSync({ timeoutMs: 5000 }), b.waitSync({ timeoutMs: 5000 })], b);
    const mine = [await b.wait({ timeoutMs: 5000 }), await b.wait({ timeoutMs: 5000 })];
    const theirs = await live;
    assert.deepEqual([mine[0] + theirs[0], mine[1] + theirs[1]], [1, 1]);
    assert.equal(b.broken, false);
  } finally {
    await pool.shutdown();
  }
});

test('Semaphore, RLock, Condition, ThreadEvent: threads killed while they wait leave them working', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 4, abortGraceMs: 1 });
  try {
    const sem = new Semaphore(0);
    const rlock = new RLock();
    const cond = new Condition(new Mutex());
    const ev = new ThreadEvent();
    const waiting = new Int32Array(new SharedArrayBuffer(4));
    const waits = [
      '(sem, rlock, cond, ev, waiting) => { Atomics.add(waiting, 0, 1); sem.acquireSync(); }',
      '(sem, rlock, cond, ev, waiting) => { Atomics.add(waiting, 0, 1); rlock.acquireSync(); }',
      '(sem, rlock, cond, ev, waiting) => { cond.mutex.runExclusiveSync(() => { Atomics.add(waiting, 0, 1); cond.waitSync(); }); }',
      '(sem, rlock, cond, ev, waiting) => { Atomics.add(waiting, 0, 1); ev.waitSync(); }',
    ].map(taskOf);
    const held = rlock.acquireSync(); // so the RLock's waiter waits
    for (let round = 0; round < 3; round++) {
      Atomics.store(waiting, 0, 0);
      const stops = waits.map(() => new AbortController());
      const doomed = waits.map((task, i) => pool.submit(task.with({ signal: stops[i].signal }), sem, rlock, cond, ev, waiting));
      // (A killed waiter stays counted in ev.waiting: one per round so far.)
      await eventually(() => Atomics.load(waiting, 0) === 4 && ev.waiting === round + 1, { what: 'four waiters' });
      // Long enough for the waiters to claim their primitives' fairness gates (2 ms).
      await new Promise((resolve) => setTimeout(resolve, 20));
      for (const stop of stops) stop.abort();
      for (const f of doomed) await assert.rejects(f, AbortError);
    }
    // The main thread goes on using each of them.
    sem.release();
    (await sem.acquire({ timeoutMs: 5000 })).release();
    assert.equal(sem.value, 1);
    held.release();
    (await rlock.acquire({ timeoutMs: 5000 })).release();
    assert.equal(rlock.locked, false);
    const notifier = pool.submit((cond) => cond.mutex.runExclusiveSync(() => cond.notifyAll()), cond);
    await cond.mutex.runExclusive(() => cond.wait({ timeoutMs: 5000 }));
    await notifier;
    const woken = pool.submit((ev) => ev.waitSync({ timeoutMs: 5000 }), ev);
    await eventually(() => ev.waiting === 4, { what: 'a live waiter next to three dead ones' });
    ev.set();
    assert.equal(await woken, true);
  } finally {
    await pool.shutdown();
  }
});
