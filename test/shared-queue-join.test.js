// ThreadQueue as queue.Queue: taskDone / join / unfinishedTasks, and close({ immediate: true }).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ThreadQueue, ThreadPoolExecutor, QueueClosedError, TimeoutError } from 'threadloop';

const ex = new ThreadPoolExecutor({ maxWorkers: 4 });
after(() => ex.shutdown());

test('join() on a queue fed by two worker producers and drained by two worker consumers', async () => {
  const N = 5000;
  const q = new ThreadQueue({ capacity: 64 });
  // [items processed, sum of processed items]
  const stats = new Int32Array(new SharedArrayBuffer(8));
  const consumers = [0, 1].map(() => ex.submit((q, stats) => {
    for (const item of q.syncIterator()) {
      Atomics.add(stats, 1, item.n);
      Atomics.add(stats, 0, 1);
      q.taskDone();
    }
  }, q, stats));
  const producers = [0, 1].map((p) => ex.submit((q, p, n) => {
    for (let i = 0; i < n; i++) q.putSync({ n: p * n + i });
  }, q, p, N));
  await Promise.all(producers);
  await q.join({ timeoutMs: 30_000 });
  // join() returned only once every item put had been marked done, so all were processed.
  assert.equal(Atomics.load(stats, 0), 2 * N);
  assert.equal(Atomics.load(stats, 1), ((2 * N - 1) * 2 * N) / 2);
  assert.equal(q.unfinishedTasks, 0);
  q.close();
  await Promise.all(consumers);
});

test('taskDone counts, refuses to go below zero, and joinSync waits on another thread', async () => {
  const q = new ThreadQueue();
  assert.equal(q.unfinishedTasks, 0);
  await q.join(); // nothing unfinished: at once
  q.joinSync();
  assert.throws(() => q.taskDone(), (e) => e instanceof RangeError && /more times than items were put/.test(e.message));
  await q.put('a');
  q.putSync('b');
  assert.equal(q.tryPut('c'), true);
  assert.equal(q.unfinishedTasks, 3);
  await assert.rejects(q.join({ timeoutMs: 20 }), TimeoutError);
  const joiner = ex.submit((q) => { q.joinSync({ timeoutMs: 10_000 }); return q.unfinishedTasks; }, q);
  for (let i = 0; i < 3; i++) {
    await q.get();
    q.taskDone();
  }
  assert.equal(await joiner, 0);
  assert.throws(() => q.taskDone(), RangeError);
  assert.equal(q.unfinishedTasks, 0);
  // Python counts puts, not gets: an item marked done before anyone took it counts.
  await q.put('d');
  q.taskDone();
  await q.join({ timeoutMs: 1000 });
  assert.equal(await q.get(), 'd');
});

test('close({ immediate: true }) drops what is left: gets fail at once, join returns', async () => {
  const q = new ThreadQueue({ capacity: 16 });
  for (let i = 0; i < 10; i++) await q.put(i % 2 ? `item ${i}` : i);
  assert.equal(await q.get(), 0);
  q.taskDone();
  const joiner = q.join({ timeoutMs: 10_000 });
  const started = new Int32Array(new SharedArrayBuffer(4));
  const empty = new ThreadQueue();
  // A getter blocked on another thread fails at once too.
  const blocked = ex.submit((q, started) => {
    Atomics.store(started, 0, 1);
    try { q.getSync({ timeoutMs: 10_000 }); return 'got'; } catch (e) { return e.name; }
  }, empty, started);
  while (Atomics.load(started, 0) === 0) await new Promise((resolve) => setImmediate(resolve));
  q.close({ immediate: true });
  empty.close({ immediate: true });
  await joiner;
  assert.equal(q.size, 0);
  assert.equal(q.unfinishedTasks, 0);
  assert.equal(q.closed, true);
  await assert.rejects(q.get(), QueueClosedError);
  assert.deepEqual(q.tryGet(), { ok: false, closed: true });
  assert.throws(() => q.putSync(1), QueueClosedError);
  assert.equal(await blocked, 'QueueClosedError');
  // An item taken before the close still needs its taskDone for join.
  const q2 = new ThreadQueue();
  await q2.put('x');
  await q2.put('y');
  await q2.get();
  q2.close({ immediate: true });
  assert.equal(q2.unfinishedTasks, 1);
  await assert.rejects(q2.join({ timeoutMs: 20 }), TimeoutError);
  q2.taskDone();
  await q2.join();
  // Closing immediately after an ordinary close drops the rest too.
  const q3 = new ThreadQueue();
  await q3.put(1);
  q3.close();
  q3.close({ immediate: true });
  assert.equal(q3.size, 0);
  assert.throws(() => q3.close(null), TypeError);
});
