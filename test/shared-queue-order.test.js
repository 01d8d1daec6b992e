// ThreadQueue({ order: 'lifo' | 'priority' }): queue.LifoQueue and queue.PriorityQueue, with every
// guarantee of the FIFO queue (MPMC, nothing lost or duplicated, capacity, close, join).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ThreadQueue, ThreadPoolExecutor, QueueClosedError, TimeoutError } from 'threadloop';
import { prng } from './helpers/util.js';

const ex = new ThreadPoolExecutor({ maxWorkers: 4 });
after(() => ex.shutdown());

const drain = (q) => {
  const out = [];
  for (let r = q.tryGet(); r.ok; r = q.tryGet()) out.push(r.value);
  return out;
};

test('lifo: the newest item comes out first, items of every kind intact', async () => {
  const q = new ThreadQueue({ order: 'lifo', capacity: 16 });
  assert.equal(q.order, 'lifo');
  const items = [1, -0, NaN, 'two', 'ünï ✓', { three: [3] }, null, undefined, true, new Map([[1, 2]]), 10n];
  for (const item of items) await q.put(item);
  const out = await ex.submit((q) => { const got = []; while (q.size > 0) got.push(q.getSync()); return got; }, q);
  assert.deepStrictEqual(out, items.slice().reverse());
  assert.equal(new ThreadQueue().order, 'fifo');
});

test('priority: lowest first, the order of putting among equals; priority is checked', async () => {
  const q = new ThreadQueue({ order: 'priority', capacity: 64 });
  const puts = [[5, 'e'], [1, 'a1'], [3, 'c'], [1, 'a2'], [-2, 'neg'], [1, 'a3'], [Infinity, 'last'], [-Infinity, 'first'], [3.5, 'd']];
  for (const [priority, item] of puts) q.putSync(item, { priority });
  await q.put('zero'); // priority 0 by default
  assert.equal(q.tryPut('z', { priority: 0 }), true);
  assert.deepEqual(drain(q), ['first', 'neg', 'zero', 'z', 'a1', 'a2', 'a3', 'c', 'd', 'e', 'last']);
  assert.throws(() => q.tryPut('x', { priority: NaN }), TypeError);
  assert.throws(() => q.tryPut('x', { priority: '1' }), TypeError);
  assert.throws(() => new ThreadQueue().tryPut('x', { priority: 1 }), (e) => e instanceof TypeError && /order: 'priority'/.test(e.message));
  assert.throws(() => new ThreadQueue({ order: 'random' }), TypeError);
  assert.equal(q.size, 0);
});

test('priority order under 4 producers: every item once, lowest first, FIFO among equals', async () => {
  const PER = 2000;
  const q = new ThreadQueue({ order: 'priority', capacity: 4 * PER });
  await Promise.all([0, 1, 2, 3].map((p) => ex.submit((q, p, n) => {
    for (let i = 0; i < n; i++) {
      const priority = (i * 7919 + p * 104729) % 50; // each producer's own mix of priorities
      q.putSync({ p, i, priority }, { priority });
    }
  }, q, p, PER)));
  assert.equal(q.size, 4 * PER);
  const out = drain(q);
  assert.equal(out.length, 4 * PER);
  const seen = new Set(out.map((x) => `${x.p}/${x.i}`));
  assert.equal(seen.size, 4 * PER, 'no item duplicated or lost');
  for (let k = 1; k < out.length; k++) {
    const [a, b] = [out[k - 1], out[k]];
    assert.ok(a.priority <= b.priority, `priority order at ${k}`);
    if (a.priority === b.priority && a.p === b.p) assert.ok(a.i < b.i, `FIFO among equals at ${k}`);
  }
});

test('lifo and priority: 4 threads and the main loop deliver every item exactly once', async () => {
  for (const order of ['lifo', 'priority']) {
    const N = 3000;
    const q = new ThreadQueue({ order, capacity: 32, byteCapacity: 2048, maxItemBytes: 512 });
    const random = prng(7);
    const producers = [0, 1].map((p) => ex.submit((q, p, n) => {
      for (let i = 0; i < n; i++) {
        const id = p * n + i;
        const item = id % 3 === 0 ? id : id % 3 === 1 ? `s${id}${'-'.repeat(id % 300)}` : { id, pad: 'x'.repeat(id % 200) };
        q.putSync(item, q.order === 'priority' ? { priority: id % 7 } : undefined);
      }
    }, q, p, N));
    const consumers = [0, 1].map(() => ex.submit((q) => {
      const got = [];
      for (const item of q.syncIterator()) got.push(item);
      return got;
    }, q));
    // The main loop takes up to 500 items; on a busy machine the consumer threads may take all
    // the others first, so it stops when the queue closes after the producers are done.
    const producing = Promise.all(producers).then(() => q.close());
    const mine = [];
    try {
      while (mine.length < 500) {
        mine.push(await q.get({ timeoutMs: 10_000 }));
        if (random() < 0.1) await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      if (!(error instanceof QueueClosedError)) throw error;
    } finally {
      await producing;
    }
    const all = [...mine, ...(await Promise.all(consumers)).flat()];
    const ids = all.map((x) => (typeof x === 'number' ? x : typeof x === 'string' ? Number(x.slice(1).replace(/-+$/, '')) : x.id));
    assert.equal(ids.length, 2 * N, order);
    assert.equal(new Set(ids).size, 2 * N, `${order}: nothing lost or duplicated`);
    for (const x of all) {
      if (typeof x === 'string') assert.equal(x.length - x.replace(/-+$/, '').length, Number(x.slice(1).replace(/-+$/, '')) % 300, 'payload intact');
      else if (typeof x === 'object') assert.equal(x.pad.length, x.id % 200, 'payload intact');
    }
  }
});

test('lifo and priority: capacity, byte room, close, close({ immediate }), join', async () => {
  for (const order of ['lifo', 'priority']) {
    const q = new ThreadQueue({ order, capacity: 3, byteCapacity: 100, maxItemBytes: 60 });
    assert.equal(q.tryPut('a'.repeat(60)), true);
    assert.equal(q.tryPut('b'.repeat(60)), false, 'no room for the bytes');
    assert.equal(q.tryPut(1), true);
    assert.equal(q.tryPut(2), true);
    assert.equal(q.tryPut(3), false, 'full');
    await assert.rejects(q.put(3, { timeoutMs: 20 }), TimeoutError);
    const blocked = q.put(4, { timeoutMs: 10_000 });
    const first = await q.get();
    assert.equal(first, order === 'lifo' ? 2 : 'a'.repeat(60));
    q.taskDone();
    await blocked;
    assert.equal(q.unfinishedTasks, 3);
    q.close();
    assert.throws(() => q.putSync(9), QueueClosedError);
    const rest = [];
    for await (const x of q) { rest.push(x); q.taskDone(); }
    assert.equal(rest.length, 3);
    await q.join({ timeoutMs: 1000 });
    await assert.rejects(q.get(), QueueClosedError);

    const q2 = new ThreadQueue({ order });
    for (let i = 0; i < 5; i++) q2.putSync(i);
    q2.close({ immediate: true });
    assert.equal(q2.size, 0);
    assert.deepEqual(q2.tryGet(), { ok: false, closed: true });
    await q2.join({ timeoutMs: 1000 });
  }
});
