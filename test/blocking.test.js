// Blocking calls (resultSync): the caller spins briefly before it sleeps, a worker that just
// answered lingers for the next call, and small frames of plain values cross in shared memory
// (lanes) instead of the port. None of it may change what a call returns, lose a frame, reorder
// frames, or hang a caller (issue 18).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AbortError, ThreadPoolExecutor, TimeoutError, startLoopThread, taskModule } from 'threadloop';

const blocking = taskModule(new URL('./fixtures/blocking.js', import.meta.url));

/**
 * Plain values of every kind a lane carries, and some it does not (a long string, objects),
 * which take the port. A result comes back through a lane whenever the caller blocks for it.
 */
const VALUES = [
  0, -0, 1.5, -7, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER + 2, Number.MIN_VALUE, 2 ** 31, -(2 ** 31) - 1,
  '', 'a', 'é😀 ünïcödé', '\ud800 lone surrogate', 'x'.repeat(5000),
  true, false, null, undefined,
  { a: 1 }, [1, 'two'], 10n, new Map([[1, 2]]),
];

describe('resultSync on a thread pool', () => {
  let pool;
  before(() => {
    pool = new ThreadPoolExecutor({ maxWorkers: 2, minWorkers: 2 });
  });
  after(() => pool.shutdown());

  test('returns every value exactly, in order, when plain and structured results alternate', () => {
    for (let round = 0; round < 20; round++) {
      for (const value of VALUES) {
        const got = pool.submit(blocking.echo, value).resultSync({ timeoutMs: 30_000 });
        if (typeof value === 'object' && value !== null) assert.deepEqual(got, value);
        else assert.ok(Object.is(got, value), `${String(value)} came back as ${String(got)}`);
      }
    }
  });

  test('a long sequence of blocking calls, with awaited calls and timers between, all settle right', async () => {
    let sum = 0;
    for (let i = 0; i < 3000; i++) {
      sum += pool.submit(blocking.echo, i).resultSync({ timeoutMs: 30_000 });
      if (i % 100 === 0) {
        // The worker may be lingering, and this thread stops blocking: frames must still flow.
        const awaited = await Promise.all([pool.submit(blocking.echo, i), pool.submit(blocking.echo, 'x'), pool.submit(blocking.echo, { i })]);
        assert.deepEqual(awaited, [i, 'x', { i }]);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    assert.equal(sum, (3000 * 2999) / 2);
  });

  test('a caller that blocks on a worker busy for longer than any spin sleeps, and gets its answer', () => {
    for (const ms of [0.2, 2, 30]) {
      assert.equal(pool.submit(blocking.busy, ms, ms).resultSync({ timeoutMs: 30_000 }), ms);
    }
  });

  test('both workers busy, the caller blocked on one: the other still runs its task', async () => {
    const other = pool.submit(blocking.busy, 50, 'other');
    assert.equal(pool.submit(blocking.busy, 50, 'mine').resultSync({ timeoutMs: 30_000 }), 'mine');
    assert.equal(await other, 'other');
  });

  test('a timed-out blocking wait throws TimeoutError and the call settles later', async () => {
    const f = pool.submit(blocking.busy, 300, 'late');
    assert.throws(() => f.resultSync({ timeoutMs: 5 }), TimeoutError);
    assert.equal(await f, 'late');
    assert.equal(pool.submit(blocking.echo, 7).resultSync(), 7, 'the next blocking call is served');
  });

  test('a call aborted while it runs: blocking on it throws AbortError once the task stopped', () => {
    const controller = new AbortController();
    const f = pool.submit(blocking.busy.with({ signal: controller.signal }), 20, 'ignored the abort');
    controller.abort(new Error('stop'));
    assert.throws(() => f.resultSync({ timeoutMs: 30_000 }), AbortError);
    assert.equal(pool.submit(blocking.echo, 8).resultSync(), 8);
  });
});

test('a worker blocked on mainLoop() calls gets each answer, plain or structured, in order', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  try {
    const values = Array.from({ length: 10 }, () => VALUES).flat();
    const got = await pool.submit(blocking.echoEachOnMain, values);
    assert.equal(got.length, values.length);
    for (let i = 0; i < values.length; i++) {
      if (typeof values[i] === 'object' && values[i] !== null) assert.deepEqual(got[i], values[i]);
      else assert.ok(Object.is(got[i], values[i]), `${String(values[i])} came back as ${String(got[i])}`);
    }
  } finally {
    await pool.shutdown();
  }
});

test('resultSync on a loop thread, whose own event loop runs freely, returns every value', async () => {
  const loop = await startLoopThread({ name: 'blocking-test' });
  try {
    for (const value of VALUES) {
      const got = loop.submit(blocking.echo, value).resultSync({ timeoutMs: 30_000 });
      if (typeof value === 'object' && value !== null) assert.deepEqual(got, value);
      else assert.ok(Object.is(got, value));
    }
    assert.equal(await loop.submit(blocking.echo, 'awaited'), 'awaited');
  } finally {
    await loop.stop();
  }
});
