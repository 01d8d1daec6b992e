// Python parity on the calling side (issue 15): a public Future, thread names, a forced shutdown.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CancelledError,
  DeadlockError,
  Future,
  InvalidStateError,
  ProcessPoolExecutor,
  ThreadPoolExecutor,
  asCompleted,
  currentThread,
  startLoopThread,
  taskModule,
  wait,
} from 'threadloop';
import { make } from './fixtures/main-futures.js';

const contract = taskModule(new URL('./fixtures/contract.js', import.meta.url));

test('new Future(): setResult, setException, setRunningOrNotifyCancel, InvalidStateError on a second set', async () => {
  const f = new Future();
  assert.equal(f.state, 'pending');
  assert.equal(f.setRunningOrNotifyCancel(), true);
  assert.equal(f.state, 'running');
  assert.equal(f.cancel(), false);
  assert.throws(() => f.setRunningOrNotifyCancel(), InvalidStateError);
  f.setResult(42);
  assert.equal(await f, 42);
  assert.throws(() => f.setResult(1), InvalidStateError);
  assert.throws(() => f.setException(new Error('late')), InvalidStateError);

  const g = new Future();
  g.setException(new TypeError('no'));
  await assert.rejects(g, TypeError);
  assert.throws(() => g.resultSync(), TypeError); // done: no blocking at all

  const c = new Future();
  assert.equal(c.cancel(), true);
  assert.equal(c.setRunningOrNotifyCancel(), false);
  assert.throws(() => c.setResult(1), InvalidStateError);
  await assert.rejects(c, CancelledError);

  const never = new Future();
  assert.throws(() => never.resultSync({ timeoutMs: 10 }), DeadlockError); // only this thread could settle it
  assert.throws(() => new Future(() => {}), TypeError);
  assert.throws(() => Future.resolve(1), TypeError);
});

test('a Future made here works with wait() and asCompleted(), settled from a worker through mainLoop()', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  try {
    const mine = make('from-worker');
    const theirs = pool.submit(contract.echo, 'pool');
    const settled = pool.submit(contract.settleOnMain, 'from-worker', 'hello');
    const { done } = await wait([mine, theirs], { returnWhen: 'ALL_COMPLETED', timeoutMs: 30_000 });
    assert.equal(done.size, 2);
    assert.equal(await mine, 'hello');
    assert.equal(await settled, 'settled');
    const order = [];
    const late = make('late');
    for await (const f of asCompleted([late, pool.submit(contract.settleOnMain, 'late', 7)])) order.push(await f);
    assert.deepEqual(order.sort(), [7, 'settled'].sort());
  } finally {
    await pool.shutdown();
  }
});

test('currentThread(): MainThread, <executor>_<index> for pool workers, a loop thread its name', async () => {
  assert.deepEqual(currentThread(), { name: 'MainThread', threadId: 0, isMainThread: true });
  const pool = new ThreadPoolExecutor({ maxWorkers: 1, name: 'ThreadPoolExecutor-0' });
  const loop = await startLoopThread({ name: 'bg-loop' });
  const procs = new ProcessPoolExecutor({ maxWorkers: 1, name: 'procs' });
  try {
    const inPool = await pool.submit(contract.whoAmI);
    assert.equal(inPool.name, 'ThreadPoolExecutor-0_0');
    assert.equal(inPool.isMainThread, false);
    assert.notEqual(inPool.threadId, 0);
    assert.equal((await loop.submit(contract.whoAmI)).name, 'bg-loop');
    const inChild = await procs.submit(contract.whoAmI);
    assert.deepEqual([inChild.name, inChild.isMainThread], ['procs_0', true]);
  } finally {
    await Promise.all([pool.shutdown(), loop.stop(), procs.shutdown()]);
  }
});

test('shutdown({ force: true }) with spinning tasks: queue cancelled, running ones cancelled, workers gone', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  const gates = [0, 1].map(() => new Int32Array(new SharedArrayBuffer(12)));
  const running = gates.map((gate) => pool.submit(contract.spinUntilAborted, gate));
  const queued = pool.submit(contract.echo, 'never');
  for (const gate of gates) while (Atomics.load(gate, 1) === 0) await Atomics.waitAsync(gate, 1, 0).value;
  await pool.shutdown({ force: true }); // the tasks spin: only ending the workers stops them
  for (const f of [...running, queued]) {
    assert.equal(f.cancelled(), true, `state ${f.state}`);
    await assert.rejects(f, CancelledError);
  }
  assert.equal(pool.stats().workers, 0);
  assert.throws(() => pool.submit(contract.echo, 1), /shut down/);
  assert.throws(() => pool.shutdown({ force: 'yes' }), TypeError);
});
