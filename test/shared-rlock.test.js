// RLock: reentrant per thread, ownership errors, guards, contention, and Condition over an RLock.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  RLock,
  Condition,
  ThreadEvent,
  ThreadPoolExecutor,
  LockNotOwnedError,
  TimeoutError,
  AbortError,
} from 'threadloop';

const ex = new ThreadPoolExecutor({ maxWorkers: 4 });
after(() => ex.shutdown());

test('RLock: the holding thread takes it again; it is free after as many releases', async () => {
  const lock = new RLock();
  assert.equal(lock.locked, false);
  assert.equal(lock.depth, 0);
  const g1 = lock.acquireSync();
  const g2 = await lock.acquire();
  const g3 = lock.tryAcquire();
  assert.ok(g3);
  assert.equal(lock.depth, 3);
  assert.equal(lock.runExclusiveSync(() => lock.depth), 4);
  assert.equal(await lock.runExclusive(async () => lock.depth), 4);
  g3.release();
  lock.release(); // by thread, not by guard: one level
  assert.equal(lock.depth, 1);
  assert.equal(lock.locked, true);
  g1[Symbol.dispose]();
  assert.equal(lock.locked, false);
  assert.throws(() => lock.release(), (e) => e instanceof LockNotOwnedError && /not locked/.test(e.message));
  assert.throws(() => g2.release(), LockNotOwnedError, 'a guard of an ended hold cannot release');
  g2[Symbol.dispose](); // quiet: `using` never throws
  // A guard from an earlier ownership cannot release a later one.
  const again = lock.acquireSync();
  assert.throws(() => g2.release(), LockNotOwnedError);
  assert.equal(lock.depth, 1);
  again.release();
  assert.equal(lock.locked, false);
});

test('RLock: another thread can neither take nor release it while it is held', async () => {
  const lock = new RLock();
  lock.acquireSync();
  lock.acquireSync();
  const seen = await ex.submit((lock) => {
    const out = { try: lock.tryAcquire() === undefined ? 'busy' : 'got it', depth: lock.depth };
    try { lock.release(); } catch (e) { out.release = e.code; }
    try { lock.acquireSync({ timeoutMs: 20 }); } catch (e) { out.acquire = e.code; }
    return out;
  }, lock);
  assert.deepEqual(seen, { try: 'busy', depth: 0, release: 'ERR_LOCK_NOT_OWNED', acquire: 'ERR_TIMEOUT' });
  lock.release();
  lock.release();
  assert.equal(await ex.submit((lock) => lock.runExclusiveSync(() => lock.runExclusiveSync(() => lock.depth)), lock), 2);
  assert.equal(lock.locked, false);
  // Timeouts and aborts on the async side leave it consistent.
  const held = new ThreadEvent();
  const letGo = new ThreadEvent();
  const holder = ex.submit((lock, held, letGo) => lock.runExclusiveSync(() => { held.set(); letGo.waitSync(); }), lock, held, letGo);
  await held.wait();
  await assert.rejects(lock.acquire({ timeoutMs: 20 }), TimeoutError);
  const ac = new AbortController();
  const aborted = lock.acquire({ signal: ac.signal });
  ac.abort();
  await assert.rejects(aborted, AbortError);
  letGo.set();
  await holder;
  const g = await lock.acquire({ timeoutMs: 5000 });
  assert.equal(lock.depth, 1);
  g.release();
});

test('RLock: re-entered 1,000 times by one thread while three others contend', async () => {
  const lock = new RLock();
  // [counter, holder thread, violations]
  const cells = new Int32Array(new SharedArrayBuffer(12));
  const deep = ex.submit((lock, cells, depth) => {
    const { threadId } = require('node:worker_threads'); // eslint-disable-line no-undef
    const guards = [];
    for (let i = 0; i < depth; i++) {
      guards.push(lock.acquireSync());
      if (i === 0) {
        if (cells[1] !== 0) Atomics.add(cells, 2, 1);
        cells[1] = threadId + 1;
      } else if (cells[1] !== threadId + 1) {
        Atomics.add(cells, 2, 1);
      }
      cells[0] = cells[0] + 1; // a non-atomic read-modify-write: only the lock makes it exact
    }
    const maxDepth = lock.depth;
    while (guards.length > 1) guards.pop().release();
    const stillHeld = lock.locked && lock.depth === 1;
    cells[1] = 0;
    guards.pop().release();
    return { maxDepth, stillHeld, after: lock.depth };
  }, lock, cells, 1000);
  const contenders = [1, 2, 3].map(() => ex.submit((lock, cells, n) => {
    const { threadId } = require('node:worker_threads'); // eslint-disable-line no-undef
    for (let i = 0; i < n; i++) {
      lock.runExclusiveSync(() => {
        if (cells[1] !== 0) Atomics.add(cells, 2, 1);
        cells[1] = threadId + 1;
        cells[0] = cells[0] + 1;
        cells[1] = 0;
      });
    }
  }, lock, cells, 2000));
  assert.deepEqual(await deep, { maxDepth: 1000, stillHeld: true, after: 0 });
  await Promise.all(contenders);
  assert.equal(cells[0], 1000 + 3 * 2000);
  assert.equal(cells[2], 0, 'nobody got in while another thread held the lock');
  assert.equal(lock.locked, false);
});

test('Condition over an RLock: wait lets go of every level and takes them all back', async () => {
  const lock = new RLock();
  const cond = new Condition(lock);
  const box = new Int32Array(new SharedArrayBuffer(4));
  const waiter = ex.submit((cond, box) => {
    const lock = cond.mutex;
    lock.acquireSync();
    lock.acquireSync();
    lock.acquireSync();
    cond.waitForSync(() => box[0] === 1, { timeoutMs: 10_000 });
    const depth = lock.depth;
    lock.release();
    lock.release();
    lock.release();
    return depth;
  }, cond, box);
  // The waiter let the lock go entirely (three levels) while it waits.
  for (;;) {
    const g = lock.tryAcquire();
    if (g) {
      box[0] = 1;
      cond.notifyAll();
      g.release();
      break;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(await waiter, 3);
  assert.equal(lock.locked, false);
  // The async side, nested on the main thread.
  const g1 = await lock.acquire();
  const g2 = await lock.acquire();
  const notifier = ex.submit((cond) => cond.mutex.runExclusiveSync(() => cond.notify()), cond);
  await cond.wait({ timeoutMs: 10_000 });
  assert.equal(lock.depth, 2);
  await notifier;
  g2.release();
  g1.release();
  assert.throws(() => cond.notify(), LockNotOwnedError);
});
