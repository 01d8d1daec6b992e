// Semaphore, ThreadEvent and Barrier across real threads.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Semaphore,
  BoundedSemaphore,
  ThreadEvent,
  Barrier,
  Mutex,
  RLock,
  ThreadPoolExecutor,
  TimeoutError,
  AbortError,
  BrokenBarrierError,
} from 'threadloop';
import { eventually } from './helpers/util.js';

const ex = new ThreadPoolExecutor({ maxWorkers: 4 });
after(() => ex.shutdown());

test('fromShared rejects what is not the state of its kind with a TypeError naming the kind', () => {
  for (const Kind of [Mutex, RLock, Semaphore, BoundedSemaphore, ThreadEvent, Barrier]) {
    for (const bad of [undefined, 42, new ArrayBuffer(64), new SharedArrayBuffer(3)]) {
      assert.throws(() => Kind.fromShared(bad), (e) => e instanceof TypeError && e.message.includes(`${Kind.name}.fromShared`));
    }
  }
});

test('Semaphore: at most n holders at once across 4 threads and the main loop', async () => {
  const sem = new Semaphore(2);
  assert.equal(sem.value, 2);
  // stats: [inside now, most seen inside]
  const stats = new Int32Array(new SharedArrayBuffer(8));
  const start = new Barrier(5);
  const enter = (stats) => {
    const now = Atomics.add(stats, 0, 1) + 1;
    for (let m = Atomics.load(stats, 1); now > m; m = Atomics.load(stats, 1)) {
      if (Atomics.compareExchange(stats, 1, m, now) === m) break;
    }
  };
  const workers = [0, 1, 2, 3].map(() => ex.submit((sem, stats, start, enterSrc) => {
    const enter = (0, eval)(enterSrc);
    start.waitSync();
    for (let i = 0; i < 300; i++) {
      const g = sem.acquireSync();
      enter(stats);
      for (let j = 0; j < 200; j++); // stay inside a little
      Atomics.sub(stats, 0, 1);
      g.release();
    }
  }, sem, stats, start, `(${enter})`));
  await start.wait();
  for (let i = 0; i < 100; i++) {
    await sem.runExclusive(async () => {
      enter(stats);
      await null;
      Atomics.sub(stats, 0, 1);
    });
  }
  await Promise.all(workers);
  assert.ok(stats[1] <= 2, `never more than 2 inside (saw ${stats[1]})`);
  assert.ok(stats[1] >= 1);
  // Two holders at once are allowed (one here, one on a worker), a third is not.
  const mine = sem.tryAcquire();
  assert.ok(mine);
  const inWorker = await ex.submit((s) => {
    const second = s.tryAcquire();
    const third = s.tryAcquire();
    second?.release();
    return [Boolean(second), Boolean(third)];
  }, sem);
  assert.deepEqual(inWorker, [true, false]);
  mine.release();
  assert.equal(stats[0], 0);
  assert.equal(sem.value, 2);
});

test('Semaphore: tryAcquire, release(n) from any thread, runExclusiveSync, validation', async () => {
  const sem = new Semaphore(0);
  assert.equal(sem.tryAcquire(), undefined);
  const waiters = [0, 1, 2].map(() => ex.submit((s) => { s.acquireSync({ timeoutMs: 5000 }); return 'in'; }, sem));
  await ex.submit((s) => s.release(3), sem); // a permit need not be released by its taker
  assert.deepEqual(await Promise.all(waiters), ['in', 'in', 'in']);
  assert.equal(sem.value, 0);
  sem.release();
  const g = sem.tryAcquire();
  assert.ok(g);
  g.release();
  assert.throws(() => g.release(), /already released/);
  assert.equal(sem.value, 1);
  assert.equal(sem.runExclusiveSync(() => sem.value), 0);
  assert.equal(sem.value, 1);
  assert.throws(() => new Semaphore(-1), (e) => e instanceof RangeError && /value/.test(e.message));
  assert.throws(() => new Semaphore(1.5), RangeError);
  assert.throws(() => sem.release(0), RangeError);
});

test('Semaphore: timeouts and aborts leave the count right', async () => {
  const sem = new Semaphore(1);
  const held = await sem.acquire();
  await assert.rejects(sem.acquire({ timeoutMs: 20 }), TimeoutError);
  assert.throws(() => sem.acquireSync({ timeoutMs: 5 }), TimeoutError);
  const ac = new AbortController();
  const p = sem.acquire({ signal: ac.signal });
  ac.abort('no');
  await assert.rejects(p, (e) => e instanceof AbortError && e.cause === 'no');
  assert.equal(sem.value, 0);
  const waiter = ex.submit((s) => { s.acquireSync({ timeoutMs: 5000 }).release(); return 'ok'; }, sem);
  held.release();
  assert.equal(await waiter, 'ok');
  assert.equal(sem.value, 1);
});

test('BoundedSemaphore: a release above the initial value throws a RangeError, on every thread', async () => {
  const sem = new BoundedSemaphore(2);
  assert.ok(sem instanceof Semaphore);
  assert.throws(() => sem.release(), (e) => e instanceof RangeError && /BoundedSemaphore\.release: released more often than acquired/.test(e.message));
  const a = sem.acquireSync();
  const b = await sem.acquire();
  assert.equal(sem.value, 0);
  assert.throws(() => sem.release(3), RangeError);
  assert.equal(sem.value, 0, 'a refused release changes nothing');
  sem.release(2);
  assert.equal(sem.value, 2);
  assert.throws(() => a.release(), RangeError, 'a guard whose permit was given back by hand cannot give one more');
  // As in Python, leaving a `with` block whose permit was given back by hand is refused too.
  assert.throws(() => b[Symbol.dispose](), RangeError);
  assert.equal(sem.value, 2);
  const there = await ex.submit((sem) => {
    const out = { bounded: sem.constructor.name };
    sem.runExclusiveSync(() => {});
    try { sem.release(); } catch (e) { out.error = e.name; }
    out.value = sem.value;
    return out;
  }, sem);
  assert.deepEqual(there, { bounded: 'BoundedSemaphore', error: 'RangeError', value: 2 });
  assert.throws(() => new BoundedSemaphore(-1), (e) => e instanceof RangeError && /^BoundedSemaphore: value/.test(e.message));
  const zero = new BoundedSemaphore(0);
  assert.throws(() => zero.release(), RangeError);
  // A plain Semaphore may still be released above its initial value.
  const plain = new Semaphore(1);
  plain.release();
  assert.equal(plain.value, 2);
});

test('Semaphore: a freed permit goes to a starving waiter, not to a barger', async () => {
  // Up to 5 trials, as in Mutex's fairness test: a waiter descheduled past its 100 ms lease on a
  // loaded machine loses its claim by design; a gate that never works loses every trial.
  const outcomes = [];
  for (let trial = 1; trial <= 5 && outcomes.at(-1) !== 'kept'; trial++) {
    const sem = new Semaphore(1);
    const held = await sem.acquire();
    const waiting = new ThreadEvent();
    const tried = new ThreadEvent();
    const starving = ex.submit((s, waiting, tried) => {
      waiting.set();
      const g = s.acquireSync({ timeoutMs: 30_000 });
      // Hold the permit until the barger has tried: a waiter that is served and releases before the
      // barger's try would leave a free permit to take, and the test would race.
      tried.waitSync({ timeoutMs: 30_000 });
      g.release();
      return 'served';
    }, sem, waiting, tried);
    await waiting.wait();
    await new Promise((r) => setTimeout(r, 50)); // elapsed time is what makes a waiter starving
    held.release();
    const barged = sem.tryAcquire();
    barged?.release();
    tried.set();
    assert.equal(await starving, 'served');
    assert.equal(sem.value, 1);
    outcomes.push(barged === undefined ? 'kept' : 'barged');
  }
  assert.equal(outcomes.at(-1), 'kept', `the permit is kept for the starving waiter (trials: ${outcomes.join(', ')})`);
});

test('ThreadEvent: set releases every waiter on every thread; clear re-arms it', async () => {
  const ev = new ThreadEvent();
  assert.equal(ev.isSet(), false);
  const arrived = new Semaphore(0);
  const sync = [0, 1, 2].map(() => ex.submit((ev, arrived) => {
    arrived.release();
    ev.waitSync({ timeoutMs: 10_000 });
    return ev.isSet();
  }, ev, arrived));
  const local = [ev.wait({ timeoutMs: 10_000 }), ev.wait()];
  for (let i = 0; i < 3; i++) await arrived.acquire();
  ev.set();
  ev.set(); // idempotent
  assert.deepEqual(await Promise.all(sync), [true, true, true]);
  await Promise.all(local);
  await ev.wait(); // already set: at once
  ev.waitSync();
  ev.clear();
  assert.equal(ev.isSet(), false);
  await assert.rejects(ev.wait({ timeoutMs: 20 }), TimeoutError);
  assert.throws(() => ev.waitSync({ timeoutMs: 5 }), TimeoutError);
  const ac = new AbortController();
  const p = ev.wait({ signal: ac.signal });
  ac.abort();
  await assert.rejects(p, AbortError);
  assert.equal(ev.isSet(), false, 'an aborted wait does not touch the flag');
  // Set from another thread wakes the main loop.
  const w = ev.wait({ timeoutMs: 10_000 });
  await ex.submit((ev) => ev.set(), ev);
  await w;
  assert.equal(ev.isSet(), true);
});

test('ThreadEvent: set() then clear() at once still releases every waiter, each with true (bpo-13502)', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 5 });
  try {
    const ev = new ThreadEvent();
    for (let round = 0; round < 5; round++) {
      // The timeouts only end a hang: five threads starting on a loaded machine may take seconds.
      const threads = [0, 1, 2, 3, 4].map(() => pool.submit((ev) => ev.waitSync({ timeoutMs: 30_000 }), ev));
      const local = ev.wait({ timeoutMs: 30_000 });
      await eventually(() => ev.waiting === 6, { what: 'six waiters', timeoutMs: 30_000 });
      ev.set();
      ev.clear();
      assert.deepEqual(await Promise.all(threads), [true, true, true, true, true], `round ${round}`);
      assert.equal(await local, true);
      assert.equal(ev.isSet(), false);
      assert.equal(ev.waiting, 0);
    }
    // A wait that starts after the clear is not let through by that set.
    await assert.rejects(ev.wait({ timeoutMs: 20 }), TimeoutError);
  } finally {
    await pool.shutdown();
  }
});

test('Barrier: 4 threads and the main loop meet, round after round, with distinct indexes', async () => {
  const ROUNDS = 20;
  const b = new Barrier(5);
  assert.equal(b.parties, 5);
  const log = new Int32Array(new SharedArrayBuffer(4 * ROUNDS * 5));
  const workers = [0, 1, 2, 3].map(() => ex.submit((b, log, rounds) => {
    for (let r = 0; r < rounds; r++) {
      const i = b.waitSync({ timeoutMs: 10_000 });
      Atomics.add(log, r * 5 + i, 1);
    }
  }, b, log, ROUNDS));
  for (let r = 0; r < ROUNDS; r++) {
    const i = await b.wait({ timeoutMs: 10_000 });
    Atomics.add(log, r * 5 + i, 1);
  }
  await Promise.all(workers);
  // Every round, each index 0..4 was handed out exactly once.
  assert.deepEqual([...log], new Array(ROUNDS * 5).fill(1));
  assert.equal(b.nWaiting, 0);
  assert.equal(b.broken, false);
});

test('Barrier: a timed-out wait breaks it for everyone until reset', async () => {
  const b = new Barrier(3);
  const arrived = new Semaphore(0);
  const other = ex.submit((b, arrived) => {
    arrived.release();
    try { b.waitSync({ timeoutMs: 10_000 }); return 'passed'; } catch (e) { return e.code; }
  }, b, arrived);
  await arrived.acquire();
  await assert.rejects(b.wait({ timeoutMs: 30 }), TimeoutError);
  assert.equal(await other, 'ERR_BROKEN_BARRIER');
  assert.equal(b.broken, true);
  await assert.rejects(b.wait(), BrokenBarrierError);
  assert.throws(() => b.waitSync(), BrokenBarrierError);
  b.reset();
  assert.equal(b.broken, false);
  const again = [0, 1].map(() => ex.submit((b) => b.waitSync({ timeoutMs: 10_000 }), b));
  const mine = await b.wait({ timeoutMs: 10_000 });
  assert.deepEqual([mine, ...(await Promise.all(again))].sort(), [0, 1, 2]);
});

test('Barrier: abort and reset release waiters with BrokenBarrierError', async () => {
  const b = new Barrier(4);
  const aborted = new AbortController();
  const a1 = b.wait({ signal: aborted.signal });
  const a2 = b.wait();
  aborted.abort(new Error('leaving'));
  await assert.rejects(a1, (e) => e instanceof AbortError && e.cause.message === 'leaving');
  await assert.rejects(a2, BrokenBarrierError);
  b.reset();
  const w = ex.submit((b) => { try { b.waitSync(); } catch (e) { return e.code; } }, b);
  const local = assert.rejects(b.wait(), BrokenBarrierError);
  while (b.nWaiting < 2) await new Promise((r) => setImmediate(r));
  b.reset(); // waiters inside get BrokenBarrierError; the barrier is usable after
  assert.equal(await w, 'ERR_BROKEN_BARRIER');
  await local;
  assert.equal(b.broken, false);
  b.abort();
  assert.equal(b.broken, true);
  await assert.rejects(b.wait(), BrokenBarrierError);
  b.reset();
  const two = new Barrier(1);
  assert.equal(await two.wait(), 0);
  assert.throws(() => new Barrier(0), (e) => e instanceof RangeError && /parties/.test(e.message));
  assert.throws(() => new Barrier(70000), RangeError);
});

test('an already aborted signal rejects every wait at once — also one that would not have to wait — and takes nothing', async () => {
  const { Condition, ThreadQueue } = await import('threadloop');
  const reason = new Error('stop');
  const signal = AbortSignal.abort(reason);
  const aborted = (err) => err instanceof AbortError && err.cause === reason;
  const m = new Mutex();
  await assert.rejects(m.acquire({ signal }), aborted);
  assert.equal(m.locked, false);
  const r = new RLock();
  await assert.rejects(r.acquire({ signal }), aborted);
  assert.equal(r.locked, false);
  const s = new Semaphore(2);
  await assert.rejects(s.acquire({ signal }), aborted);
  assert.equal(s.value, 2);
  const e = new ThreadEvent();
  e.set();
  await assert.rejects(e.wait({ signal }), aborted);
  const b = new Barrier(1);
  await assert.rejects(b.wait({ signal }), aborted);
  assert.equal(b.broken, false);
  assert.equal(await b.wait(), 0, 'the barrier still works');
  const q = new ThreadQueue({ capacity: 4 });
  await assert.rejects(q.put('a', { signal }), aborted);
  assert.equal(q.size, 0);
  await q.put('b');
  await assert.rejects(q.get({ signal }), aborted);
  assert.equal(q.size, 1);
  await assert.rejects(q.join({ signal }), aborted);
  const c = new Condition();
  const guard = await c.mutex.acquire();
  await assert.rejects(c.wait({ signal }), aborted);
  assert.equal(c.mutex.locked, true, 'the condition still holds its lock');
  guard.release();
  // A signal that is not aborted changes nothing.
  const live = new AbortController().signal;
  (await m.acquire({ signal: live })).release();
  assert.equal(await q.get({ signal: live }), 'b');
});
