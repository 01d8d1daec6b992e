// Barrier({ action, timeoutMs }): the action runs once per round, on the thread that trips it,
// before anyone goes on; one that throws breaks the barrier; a default timeout for every wait.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Barrier, ThreadPoolExecutor, moduleTask, BrokenBarrierError, TimeoutError } from 'threadloop';

// The action takes no arguments (as in Python), so it reaches shared memory through a global
// that every thread of the test has: [trips, failures so far, module-task trips].
const log = new Int32Array(new SharedArrayBuffer(12));
globalThis.tripLog = log;
const ex = new ThreadPoolExecutor({
  maxWorkers: 4,
  initializer: (sab) => { globalThis.tripLog = new Int32Array(sab); },
  initArgs: [log.buffer],
});
after(() => ex.shutdown());

test('the action runs once per round, before any party of the round goes on', async () => {
  const ROUNDS = 20;
  Atomics.store(log, 0, 0);
  const b = new Barrier(5, { action: () => { Atomics.add(globalThis.tripLog, 0, 1); } });
  const workers = [0, 1, 2, 3].map(() => ex.submit((b, rounds) => {
    const late = [];
    for (let r = 0; r < rounds; r++) {
      b.waitSync({ timeoutMs: 10_000 });
      if (Atomics.load(globalThis.tripLog, 0) < r + 1) late.push(r);
    }
    return late;
  }, b, ROUNDS));
  const late = [];
  for (let r = 0; r < ROUNDS; r++) {
    await b.wait({ timeoutMs: 10_000 });
    if (Atomics.load(log, 0) < r + 1) late.push(r);
  }
  assert.deepEqual(await Promise.all(workers), [[], [], [], []], 'no worker passed a round before its action ran');
  assert.deepEqual(late, []);
  assert.equal(Atomics.load(log, 0), ROUNDS, 'one action per round');
  assert.equal(b.broken, false);
});

test('an action that throws breaks the barrier: its thread gets the error, the others BrokenBarrierError', async () => {
  Atomics.store(log, 1, 0);
  const action = () => {
    if (Atomics.add(globalThis.tripLog, 1, 1) === 0) throw new TypeError('the first trip fails');
  };
  const b = new Barrier(3, { action });
  const outcome = (p) => p.then((i) => `index ${i}`, (e) => e.name);
  const round = () => [
    ...[0, 1].map(() => outcome(ex.submit((b) => b.waitSync({ timeoutMs: 10_000 }), b))),
    outcome(b.wait({ timeoutMs: 10_000 })),
  ];
  const first = await Promise.all(round());
  assert.deepEqual(first.slice().sort(), ['BrokenBarrierError', 'BrokenBarrierError', 'TypeError']);
  assert.equal(b.broken, true);
  await assert.rejects(b.wait(), BrokenBarrierError);
  b.reset();
  const second = await Promise.all(round());
  assert.deepEqual(second.slice().sort(), ['index 0', 'index 1', 'index 2']);
  assert.equal(Atomics.load(log, 1), 2);
  assert.equal(b.broken, false);
});

test('the action may be a module task; a promise it returns is awaited by wait()', async () => {
  Atomics.store(log, 2, 0);
  const action = moduleTask('data:text/javascript,' + encodeURIComponent(
    'export default async () => { await new Promise((r) => setTimeout(r, 5)); Atomics.add(globalThis.tripLog, 2, 1); }',
  ));
  const b = new Barrier(2, { action });
  for (let r = 0; r < 3; r++) {
    const other = ex.submit((b) => b.waitSync({ timeoutMs: 10_000 }), b);
    // The main thread arrives second (async), so it runs the async action.
    while (b.nWaiting < 1) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await b.wait({ timeoutMs: 10_000 }), 1);
    assert.equal(await other, 0);
    assert.equal(Atomics.load(log, 2), r + 1);
  }
});

test('timeoutMs is the default timeout of every wait; options are validated', async () => {
  const b = new Barrier(2, { timeoutMs: 30 });
  await assert.rejects(b.wait(), TimeoutError);
  assert.equal(b.broken, true);
  b.reset();
  const fromWorker = await ex.submit((b) => { try { b.waitSync(); } catch (e) { return e.name; } }, b);
  assert.equal(fromWorker, 'TimeoutError', 'the default timeout travels with the barrier');
  b.reset();
  const worker = ex.submit((b) => b.waitSync({ timeoutMs: 10_000 }), b);
  assert.equal(await b.wait({ timeoutMs: 10_000 }) + await worker, 1, 'an explicit timeout wins');
  assert.throws(() => new Barrier(2, { timeoutMs: -1 }), RangeError);
  assert.throws(() => new Barrier(2, { timeout: 100 }), (e) => e instanceof TypeError && /Barrier: unknown option 'timeout'/.test(e.message));
  assert.throws(() => new Barrier(2, { action: 42 }), TypeError);
  assert.throws(() => new Barrier(2, null), TypeError);
});
