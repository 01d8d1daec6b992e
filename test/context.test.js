// ContextVar and shareContext (issue 16): the values in force at submit are in force while the
// task runs on the other thread — after its awaits, in its mainLoop() calls back, in the tasks it
// submits in turn — on thread pools, process pools and loop threads.
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { after, before, describe, test } from 'node:test';
import { ContextVar, TaskSerializationError, shareContext, taskModule } from 'threadloop';
import { targets } from './helpers/targets.js';

const fx = await import('./fixtures/beyond.js');
const tasks = taskModule(new URL('./fixtures/beyond.js', import.meta.url));
const { requestId, user, logStore } = fx;

for (const [kind, start, stop] of targets) {
  describe(`context on a ${kind}`, () => {
    let target;
    before(async () => {
      target = await start();
    });
    after(() => stop(target));

    test('a task sees no value where none is set (and the default)', async () => {
      assert.deepEqual(await target.submit(tasks.readContext), { requestId: undefined, user: 'nobody', log: undefined });
    });

    test('ContextVar and shared AsyncLocalStorage values cross, and last past awaits', async () => {
      const seen = await requestId.run('req-1', () => user.run('ada', () => logStore.run({ traceId: 't1' }, () => target.submit(tasks.readAfterAwait))));
      assert.deepEqual(seen, { requestId: 'req-1', user: 'ada', log: { traceId: 't1' } });
    });

    test('a call without context after one with it sees nothing left over', async () => {
      await requestId.run('req-old', () => target.submit(tasks.readContext));
      assert.deepEqual(await target.submit(tasks.readAfterAwait), { requestId: undefined, user: 'nobody', log: undefined });
    });

    test('concurrent calls each see their own values', async () => {
      const futures = ['a', 'b', 'c'].map((id) => requestId.run(id, () => target.submit(tasks.readAfterAwait)));
      assert.deepEqual((await Promise.all(futures)).map((r) => r.requestId), ['a', 'b', 'c']);
    });

    test('the context goes on into mainLoop() calls the task makes back', async () => {
      const { here, there } = await requestId.run('req-2', () => logStore.run('log-2', () => target.submit(tasks.readOnMain)));
      assert.deepEqual(here, { requestId: 'req-2', user: 'nobody', log: 'log-2' });
      assert.deepEqual(there, { requestId: 'req-2', user: 'nobody', log: 'log-2' });
    });

    test('set() in the task changes what it passes on, not the caller', async () => {
      await requestId.run('before', async () => {
        const there = await target.submit(tasks.setAndReadOnMain, 'after');
        assert.equal(there.requestId, 'after');
        assert.equal(requestId.get(), 'before');
      });
    });

    test('tasks the task submits in turn (its own loop, a pool of its own) get the context', async () => {
      const { ownLoop, ownPool } = await requestId.run('req-3', () => target.submit(tasks.nestedSubmits));
      assert.equal(ownLoop.requestId, 'req-3');
      assert.equal(ownPool.requestId, 'req-3');
    });

    test('a value that cannot be cloned fails at submit, naming the variable', async () => {
      const error = requestId.run(() => 'a function', () => {
        try {
          target.submit(tasks.readContext);
        } catch (e) {
          return e;
        }
        return undefined;
      });
      assert.ok(error instanceof TaskSerializationError, String(error));
      assert.match(error.message, /ContextVar 'requestId'.*task 'readContext'.*function/);
      const shared = logStore.run({ send: Symbol('no') }, () => assert.throws(() => target.submit(tasks.readContext), /shared as 'log'.*symbol/));
      assert.equal(shared, undefined);
      assert.equal((await target.submit(tasks.readContext)).requestId, undefined); // still works
    });
  });
}

describe('ContextVar', () => {
  test('get() returns the value of the innermost run(), or the default', () => {
    const v = new ContextVar('ctx-test-a', { default: 0 });
    assert.equal(v.get(), 0);
    v.run(1, () => {
      assert.equal(v.get(), 1);
      v.run(2, () => assert.equal(v.get(), 2));
      assert.equal(v.get(), 1);
      v.run(undefined, () => assert.equal(v.get(), 0)); // undefined unsets
    });
    assert.equal(v.get(), 0);
  });

  test('run() follows awaits; set() changes the rest of the run only', async () => {
    const v = new ContextVar('ctx-test-b');
    await v.run('x', async () => {
      await null;
      assert.equal(v.get(), 'x');
      v.set('y');
      await new Promise((resolve) => setTimeout(resolve, 1));
      assert.equal(v.get(), 'y');
    });
    assert.equal(v.get(), undefined);
  });

  test('variables of the same name are one variable (as on the other thread)', () => {
    const a = new ContextVar('ctx-test-same');
    const b = new ContextVar('ctx-test-same');
    a.run(5, () => assert.equal(b.get(), 5));
  });

  test('bad input gets a clear error', () => {
    assert.throws(() => new ContextVar(''), TypeError);
    assert.throws(() => new ContextVar(42), TypeError);
    assert.throws(() => new ContextVar('ctx-test-c').run(1, 'not a function'), TypeError);
    assert.throws(() => new ContextVar('ctx-test-c').set(1), /outside a run\(\)/);
    assert.throws(() => shareContext({}, 'x'), TypeError);
    assert.throws(() => shareContext(new AsyncLocalStorage(), ''), TypeError);
    assert.throws(() => shareContext(new AsyncLocalStorage(), 'log'), /already shared as 'log'/);
    shareContext(logStore, 'log'); // the same store again is fine
  });
});
