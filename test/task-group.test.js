// TaskGroup (issue 16): Python 3.11's asyncio.TaskGroup for tasks on thread pools, process pools
// and loop threads — results in submit order, the first failure aborts the rest, joining waits
// for every task.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { AbortError, TaskGroup, ThreadPoolExecutor, startLoopThread, taskModule } from 'threadloop';
import { eventually, rejectsWith } from './helpers/util.js';
import { targets } from './helpers/targets.js';

const fx = await import('./fixtures/beyond.js');
const tasks = taskModule(new URL('./fixtures/beyond.js', import.meta.url));

for (const [kind, start, stop] of targets) {
  describe(`task groups on a ${kind}`, () => {
    let target;
    before(async () => {
      target = await start({ workers: 2 });
    });
    after(() => stop(target));
    beforeEach(() => fx.resetNotes());

    test('join() resolves with the results in submit order', async () => {
      const group = new TaskGroup();
      const futures = [group.submit(target, tasks.slowAdd, 1, 1), group.submit(target, tasks.echo, 'b'), group.submit(target, tasks.echo, 3)];
      assert.deepEqual(await group.join(), [2, 'b', 3]);
      assert.equal(await futures[0], 2);
      assert.deepEqual(await group.join(), [2, 'b', 3]); // the same join
    });

    test('the first failure aborts the others, and join() rejects with only the real failures', async () => {
      const group = new TaskGroup();
      const running = group.submit(target, tasks.untilAborted, 'runner');
      await eventually(() => fx.notes.includes('runner: started'), { what: 'the first task to start' });
      const failing = group.submit(target, tasks.failLater, 'bad input');
      // On a pool every worker is busy now: this one waits in the queue, and is cancelled.
      const queued = kind === 'loop thread' ? undefined : group.submit(target, tasks.echo, 'never');
      const error = await rejectsWith(group.join(), AggregateError, /1 task of the group failed/);
      assert.equal(error.errors.length, 1);
      assert.ok(error.errors[0] instanceof TypeError);
      assert.equal(error.errors[0].message, 'bad input');
      await rejectsWith(failing, TypeError);
      const stopped = await rejectsWith(running, AbortError);
      assert.match(stopped.cause.message, /another task of the group failed: bad input/);
      assert.ok(fx.notes.includes('runner: aborted'), String(fx.notes)); // its signal fired over there
      if (queued !== undefined) assert.equal(queued.cancelled(), true);
      assert.equal(group.signal.aborted, true);
    });

    test('a group aborted by its signal stops its tasks; join() rejects with AbortError', async () => {
      const controller = new AbortController();
      const group = new TaskGroup({ signal: controller.signal });
      const running = group.submit(target, tasks.untilAborted, 'sig');
      await eventually(() => fx.notes.includes('sig: started'), { what: 'the task to start' });
      controller.abort(new Error('shutting down'));
      assert.throws(() => group.submit(target, tasks.echo, 1), AbortError);
      const error = await rejectsWith(group.join(), AbortError, /the task group was aborted/);
      assert.equal(error.cause.message, 'shutting down');
      await rejectsWith(running, AbortError);
    });

    test('leaving an await using block waits for every task of the group', async () => {
      const group = new TaskGroup();
      const futures = [group.submit(target, tasks.slowAdd, 2, 2), group.submit(target, tasks.slowAdd, 3, 3)];
      await group[Symbol.asyncDispose]();
      assert.ok(futures.every((f) => f.done()));
      assert.throws(() => group.submit(target, tasks.echo, 1), /has finished/);
    });
  });
}

describe('TaskGroup', () => {
  let pool;
  let loop;
  before(async () => {
    pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    loop = await startLoopThread({ name: 'group-loop' });
  });
  after(async () => {
    await pool.shutdown();
    await loop.stop();
  });

  test('one group spans executors and loops', async () => {
    const group = new TaskGroup();
    group.submit(pool, tasks.echo, 'pool');
    group.submit(loop, tasks.echo, 'loop');
    assert.deepEqual(await group.join(), ['pool', 'loop']);
  });

  test('a task cancelled on its own is no failure', async () => {
    const group = new TaskGroup();
    const blocker = group.submit(pool, tasks.slowAdd, 1, 2);
    const cancelled = group.submit(pool, tasks.echo, 'x');
    assert.equal(cancelled.cancel(), true);
    assert.deepEqual(await group.join(), [3, undefined]);
    assert.equal(await blocker, 3);
  });

  test('a task\'s own signal still works inside a group', async () => {
    const group = new TaskGroup();
    const controller = new AbortController();
    const own = group.submit(loop, tasks.untilAborted.with({ signal: controller.signal }), 'own');
    await eventually(() => fx.notes.includes('own: started'), { what: 'the task to start' });
    controller.abort();
    await rejectsWith(own, AbortError);
    const error = await rejectsWith(group.join(), AggregateError); // an abort the group did not cause is a failure
    assert.ok(error.errors[0] instanceof AbortError);
  });

  test('bad input gets a clear error', () => {
    assert.throws(() => new TaskGroup(null), TypeError);
    assert.throws(() => new TaskGroup({ signal: 'no' }), TypeError);
    assert.throws(() => new TaskGroup().submit({}, tasks.echo, 1), /expected an executor or a loop/);
  });
});
