// Every future settles exactly once: cancel/abort/timeout races, crashes, floods, stop().
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AbortError,
  CancelledError,
  LoopClosedError,
  ProcessPoolExecutor,
  ThreadPoolExecutor,
  TimeoutError,
  WorkerCrashedError,
  startLoopThread,
  taskModule,
} from 'threadloop';
import { within } from '../helpers/util.js';

const t = taskModule(new URL('./tasks.js', import.meta.url));

/** Counts settlements through every channel a user has. */
function watch(futures) {
  const counts = futures.map(() => 0);
  futures.forEach((f, i) => f.addDoneCallback(() => counts[i]++));
  return async () => {
    await within(Promise.allSettled(futures), 20_000, 'every future settles');
    await new Promise((r) => setImmediate(r));
    assert.ok(counts.every((c) => c === 1), `done callbacks per future: ${[...new Set(counts)]}`);
    return Promise.allSettled(futures);
  };
}

test('a done callback that submits to the same pool, fired by cancel() of a queued call', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1, maxQueue: 10 }); // one call at a time per worker: the rest queue here
  try {
    const busy = pool.submit(t.sleep, 100);
    const queued = pool.submit(t.echo, 'q');
    let chained;
    let thrown;
    queued.addDoneCallback(() => {
      try {
        chained = pool.submit(t.echo, 'chained');
      } catch (e) {
        thrown = e;
      }
    });
    assert.equal(queued.cancel(), true);
    assert.equal(thrown, undefined, `submit from a done callback threw: ${thrown?.stack}`);
    assert.equal(await chained, 'chained');
    await busy;
    const s = pool.stats();
    assert.equal(s.queued, 0);
    assert.deepEqual([s.completed, s.cancelled], [2, 1]);
  } finally {
    await pool.shutdown();
  }
});

test('a call finishes; its done callback cancels the queued one, whose callback submits again', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1, maxQueue: 10 });
  try {
    const running = pool.submit(t.sleep, 50);
    const queued = pool.submit(t.echo, 'q');
    let chained;
    let thrown;
    running.addDoneCallback(() => queued.cancel());
    queued.addDoneCallback(() => {
      try {
        chained = pool.submit(t.echo, 'chained');
      } catch (e) {
        thrown = e;
      }
    });
    await running;
    assert.equal(thrown, undefined, `submit from a done callback threw: ${thrown?.stack}`);
    assert.ok(queued.cancelled());
    assert.equal(await within(chained, 5000, 'the chained call'), 'chained');
    await pool.idle();
    const s = pool.stats();
    assert.deepEqual([s.completed, s.cancelled, s.queued, s.running], [2, 1, 0, 0]);
  } finally {
    await pool.shutdown();
  }
});

test('cancel() of one future from the done callback of another', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1, maxQueue: 10 });
  try {
    const a = pool.submit(t.sleep, 50);
    const b = pool.submit(t.echo, 'b');
    const c = pool.submit(t.echo, 'c');
    a.addDoneCallback(() => assert.equal(b.cancel(), true));
    const check = watch([a, b, c]);
    const [ra, rb, rc] = await check();
    assert.equal(ra.value, 50);
    assert.ok(rb.reason instanceof CancelledError);
    assert.equal(rc.value, 'c');
    await pool.idle();
    const s = pool.stats();
    assert.deepEqual([s.completed, s.cancelled, s.queued, s.running], [2, 1, 0, 0]);
  } finally {
    await pool.shutdown();
  }
});

for (const kind of ['pool', 'loop']) {
  test(`${kind}: aborts racing starts, on one shared signal per batch; every future settles once`, async () => {
    const target = kind === 'pool' ? new ThreadPoolExecutor({ maxWorkers: 2, abortGraceMs: 100 }) : await startLoopThread({ abortGraceMs: 100 });
    try {
      const futures = [];
      for (let round = 0; round < 20; round++) {
        const ac = new AbortController();
        const task = t.sleep.with({ signal: ac.signal });
        for (let i = 0; i < 20; i++) futures.push(target.submit(task, i % 3, i));
        if (round % 2 === 0) await new Promise((r) => setImmediate(r));
        else await Promise.resolve();
        ac.abort(new Error(`round ${round}`));
      }
      const outcomes = await watch(futures)();
      for (const o of outcomes) if (o.status === 'rejected') assert.ok(o.reason instanceof AbortError, `${o.reason}`);
      if (kind === 'pool') {
        await target.idle();
        const s = target.stats();
        assert.equal(s.completed + s.failed + s.cancelled, futures.length);
      }
    } finally {
      await (kind === 'pool' ? target.shutdown() : target.stop());
    }
  });

  test(`${kind}: timeouts of 0.001 ms and 2^31 ms, mixed`, async () => {
    const target = kind === 'pool' ? new ThreadPoolExecutor({ maxWorkers: 2, abortGraceMs: 100 }) : await startLoopThread({ abortGraceMs: 100 });
    try {
      const futures = [];
      for (let i = 0; i < 100; i++) futures.push(target.submit(t.sleep.with({ timeoutMs: i % 2 ? 0.001 : 2 ** 31 }), i % 5, i));
      const outcomes = await watch(futures)();
      outcomes.forEach((o, i) => {
        if (i % 2 === 0) assert.equal(o.value, i);
        else if (o.status === 'rejected') assert.ok(o.reason instanceof TimeoutError, `${o.reason}`);
      });
    } finally {
      await (kind === 'pool' ? target.shutdown() : target.stop());
    }
  });
}

test('an abort and a crash together: the future settles once, with the abort; the pool goes on', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1, abortGraceMs: 5000 });
  try {
    const ac = new AbortController();
    const f = pool.submit(t.exitOnAbort.with({ signal: ac.signal }));
    const later = pool.submit(t.echo, 'later');
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    const [rf, rl] = await watch([f, later])();
    assert.ok(rf.reason instanceof AbortError, `${rf.reason}`);
    assert.equal(rl.value, 'later');
  } finally {
    await pool.shutdown();
  }
});

test('shutdown({ wait: false }) during the abort grace: the worker is ended after it; the future settles with the abort', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1, abortGraceMs: 300 });
  const ac = new AbortController();
  const f = pool.submit(t.forever.with({ signal: ac.signal }));
  await new Promise((r) => setTimeout(r, 100));
  ac.abort();
  await pool.shutdown({ wait: false });
  const [r] = await watch([f])();
  assert.ok(r.reason instanceof AbortError, `${r.reason}`);
  await within(pool.shutdown(), 10_000, 'shutdown');
  assert.equal(pool.stats().workers, 0);
});

test('worker death mid-batch: exit, uncaught throw, OOM — only the running call fails', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 } });
  try {
    for (const how of ['exit', 'throw-later', 'oom']) {
      const before = Array.from({ length: 50 }, (_, i) => pool.submit(t.echo, i));
      const dying = pool.submit(t.die, how);
      const afterwards = Array.from({ length: 50 }, (_, i) => pool.submit(t.echo, i));
      const outcomes = await watch([...before, dying, ...afterwards])();
      const failed = outcomes.filter((o) => o.status === 'rejected');
      assert.equal(failed.length, 1, `${how}: ${failed.map((o) => o.reason.message)}`);
      assert.ok(failed[0].reason instanceof WorkerCrashedError, `${how}: ${failed[0].reason}`);
    }
    await pool.idle();
    const s = pool.stats();
    assert.equal(s.completed + s.failed + s.cancelled, 303);
    assert.equal(s.failed, 3);
  } finally {
    await pool.shutdown();
  }
});

test('loop thread: > 1024 calls in flight keep their order; cancelling some of them loses none', async () => {
  const loop = await startLoopThread();
  try {
    const block = loop.submit(t.spin, 200);
    const futures = Array.from({ length: 3000 }, (_, i) => loop.submit(t.seq, i));
    const cancelled = new Set();
    for (let i = 5; i < 3000; i += 7) if (futures[i].cancel()) cancelled.add(i);
    assert.ok(cancelled.size > 400);
    const outcomes = await watch(futures)();
    await block;
    outcomes.forEach((o, i) => {
      if (cancelled.has(i)) assert.ok(o.reason instanceof CancelledError);
      else assert.equal(o.value, i);
    });
    const order = await loop.submit(t.seqList);
    assert.deepEqual(order, futures.map((_, i) => i).filter((i) => !cancelled.has(i)));
  } finally {
    await loop.stop();
  }
});

test('loop.stop() during a flood: every future settles, with its value or LoopClosedError', async () => {
  const loop = await startLoopThread({ stopGraceMs: 200 });
  const futures = [];
  for (let i = 0; i < 2500; i++) futures.push(loop.submit(t.sleep, i % 4, i));
  const stopped = loop.stop();
  assert.throws(() => loop.submit(t.echo, 1), LoopClosedError);
  const outcomes = await watch(futures)();
  for (const o of outcomes) if (o.status === 'rejected') assert.ok(o.reason instanceof LoopClosedError || o.reason instanceof AbortError, `${o.reason?.name}`);
  await within(stopped, 10_000, 'stop');
});

test('a loop thread that dies with calls in flight and waiting: all fail with WorkerCrashedError', async () => {
  const loop = await startLoopThread();
  const futures = [loop.submit(t.spin, 50), loop.submit(t.die, 'exit'), ...Array.from({ length: 1500 }, (_, i) => loop.submit(t.echo, i))];
  const outcomes = await watch(futures)();
  assert.equal(outcomes[0].value, 50);
  for (const o of outcomes.slice(1)) assert.ok(o.reason instanceof WorkerCrashedError, `${o.reason}`);
  assert.equal(loop.isClosed(), true);
  await within(loop.stop(), 5000, 'stop of a dead loop');
});

test('process pool: sent = running (cancel false), abort, crash, counters balance', async () => {
  const pool = new ProcessPoolExecutor({ maxWorkers: 1, abortGraceMs: 200 });
  try {
    const a = pool.submit(t.sleep, 100, 'a');
    await new Promise((r) => setTimeout(r, 20));
    const ac = new AbortController();
    const b = pool.submit(t.sleep.with({ signal: ac.signal }), 50, 'b');
    ac.abort();
    const c = pool.submit(t.die, 'exit');
    const d = pool.submit(t.echo, 'd');
    const e = pool.submit(t.echo.with({ timeoutMs: 0.001 }), 'e');
    const outcomes = await watch([a, b, c, d, e])();
    assert.equal(outcomes[0].value, 'a');
    assert.ok(outcomes[1].reason instanceof AbortError);
    assert.ok(outcomes[2].reason instanceof WorkerCrashedError);
    assert.equal(outcomes[3].value, 'd');
    await pool.idle();
    const s = pool.stats();
    assert.equal(s.completed + s.failed + s.cancelled, 5);
  } finally {
    await pool.shutdown();
  }
  assert.equal(pool.stats().workers, 0);
});

test('hostile options are refused at the call that caused them', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1, abortGraceMs: Number.MAX_SAFE_INTEGER });
  try {
    for (const bad of [NaN, -1, '5', 0, null]) assert.throws(() => t.echo.with({ timeoutMs: bad }), (e) => e instanceof TypeError || e instanceof RangeError, String(bad));
    assert.equal(await pool.submit(t.echo.with({ timeoutMs: Infinity }), 1), 1);
    const ac = new AbortController();
    ac.abort();
    const f = pool.submit(t.echo.with({ signal: ac.signal }), 1);
    await assert.rejects(f, AbortError);
    assert.equal(f.cancel(), false);
    const loop = await startLoopThread({ abortGraceMs: Infinity, stopGraceMs: Infinity });
    const g = loop.submit(t.echo.with({ signal: ac.signal }), 1);
    await assert.rejects(g, AbortError);
    assert.equal(await loop.submit(t.echo, 2), 2);
    await within(loop.stop(), 5000, 'stop with stopGraceMs Infinity');
    for (const bad of [NaN, -1, '5']) assert.throws(() => f.resultSync({ timeoutMs: bad }));
    await assert.rejects(pool.submit(t.sleep, 50).result({ timeoutMs: 0.001 }), TimeoutError);
  } finally {
    await pool.shutdown();
  }
});
