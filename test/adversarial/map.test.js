// map/starmap under shutdown, input errors and odd consumers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ThreadPoolExecutor, taskModule } from 'threadloop';
import { within } from '../helpers/util.js';

const t = taskModule(new URL('./tasks.js', import.meta.url));
const range = (n) => Array.from({ length: n }, (_, i) => i);

test('a map with maxQueue begun before shutdown() still delivers every result', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1, maxQueue: 2 });
  const results = pool.map(t.echo, range(20));
  const done = pool.shutdown({ wait: false });
  await done;
  const out = [];
  for await (const v of results) out.push(v);
  assert.deepEqual(out, range(20));
  await within(pool.shutdown(), 5000, 'shutdown');
});

test('a map with maxQueue read only after `await shutdown()` does not hang the shutdown', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1, maxQueue: 2 });
  const results = pool.map(t.echo, range(20));
  await within(pool.shutdown(), 5000, 'shutdown');
  const out = [];
  for await (const v of results) out.push(v);
  assert.deepEqual(out, range(20));
});

test('a never-read map whose input throws does not hang shutdown()', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  function* items() {
    yield 1;
    throw new Error('input broke');
  }
  const results = pool.map(t.echo, items());
  await within(pool.shutdown(), 5000, 'shutdown');
  await assert.rejects(async () => {
    for await (const ignored of results) void ignored;
  }, /input broke/);
});

test('a never-read map whose input throws only after shutdown began does not hang shutdown()', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  function* items() {
    for (let i = 0; i < 10; i++) yield i;
    throw new Error('input broke late');
  }
  const results = pool.map(t.echo, items(), { concurrency: 2 });
  await within(pool.shutdown(), 5000, 'shutdown');
  const out = [];
  await assert.rejects(async () => {
    for await (const v of results) out.push(v);
  }, /input broke late/);
  assert.deepEqual(out, range(10));
});

test('a never-read starmap with a bad item (a submit error) does not hang shutdown()', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const results = pool.starmap((a, b) => a + b, [[1, 2], 'oops', [3, 4]]);
  await within(pool.shutdown(), 5000, 'shutdown');
  await assert.rejects(async () => {
    for await (const ignored of results) void ignored;
  }, TypeError);
});

test('two next() calls at once both settle, in order', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  try {
    const it = pool.map(t.sleep, [30, 10, 20]);
    const got = await within(Promise.all([it.next(), it.next(), it.next(), it.next()]), 5000, 'concurrent next()');
    assert.deepEqual(got.map((r) => r.value), [30, 10, 20, undefined]);
  } finally {
    await pool.shutdown();
  }
});

test('leaving the loop while the async input is pulling: nothing pulled afterwards runs', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  try {
    let release;
    const gate = new Promise((r) => (release = r));
    async function* items() {
      yield 'first';
      await gate; // the map waits here for its next item while the consumer leaves
      yield 'after-break';
    }
    for await (const v of pool.map(t.mark, items())) {
      assert.equal(v, 'first');
      release();
      break;
    }
    await pool.idle();
    await new Promise((r) => setTimeout(r, 50));
    await pool.idle();
    const st = pool.stats();
    assert.equal(st.completed + st.failed + st.cancelled, 1, `ran after break: ${JSON.stringify(st)}`);
  } finally {
    await pool.shutdown();
  }
});

test('unordered map with errors: first error thrown, rest cancelled, shutdown resolves, counters add up', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  const boom = (x) => {
    if (x % 7 === 3) throw new Error(`bad ${x}`);
    return x;
  };
  await assert.rejects(async () => {
    for await (const ignored of pool.map(boom, range(200), { ordered: false, concurrency: 8 })) void ignored;
  }, /bad/);
  await within(pool.shutdown(), 5000, 'shutdown');
  const s = pool.stats();
  assert.equal(s.queued, 0);
  assert.equal(s.workers, 0);
});

test('chunked starmap with shutdown({ cancelFutures: true }) mid-way settles everything', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  const it = pool.starmap((a, b) => a * b, range(1000).map((i) => [i, 2]), { chunkSize: 9, concurrency: 4 });
  const first = await it.next();
  assert.equal(first.value, 0);
  await within(pool.shutdown({ cancelFutures: true }), 5000, 'shutdown');
  await assert.rejects(async () => {
    for await (const ignored of it) void ignored;
  }, (e) => e.name === 'CancelledError');
  const s = pool.stats();
  assert.equal(s.queued, 0);
  assert.equal(s.workers, 0);
});
