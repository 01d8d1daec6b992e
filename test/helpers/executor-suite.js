// The behaviour every Executor must have, as one parameterised suite:
//
//     executorSuite('ThreadPoolExecutor', (options) => new ThreadPoolExecutor(options), caps)
//
// `caps` says what the executor can do beyond the shared contract:
//   sharedMemory  gates use SharedArrayBuffer + Atomics (otherwise temp files; default true)
//   kind          what its workers are called in messages ('worker thread', 'child process')
//   scale         multiplies the task counts of the load and fault-injection tests (default 1)
// Thread-only behaviour (resultSync, resourceLimits, …) lives in test/thread-pool.test.js.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blockedOn } from './runtime.js';
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AbortError,
  BrokenExecutorError,
  CancelledError,
  ExecutorShutdownError,
  Future,
  QueueFullError,
  TaskNotFoundError,
  TaskSerializationError,
  ThreadEvent,
  ThreadloopError,
  TimeoutError,
  WorkerCrashedError,
  asCompleted,
  currentTask,
  taskModule,
  wait,
} from 'threadloop';
import { delay, eventually, failsWith, fixtureUrl, gateFactory, isPending, keepAlive, prng, rejectsWith, within } from './util.js';

const t = taskModule(fixtureUrl('tasks.js'));
const init = taskModule(fixtureUrl('init.js'));

export function executorSuite(label, makeExecutor, caps = {}) {
  const { sharedMemory = true, kind = 'worker thread', scale = 1 } = caps;

  describe(`${label}: executor contract`, () => {
    const gates = gateFactory({ sharedMemory });
    const executors = [];
    /** Makes an executor that is shut down after the test. */
    const make = (options = {}) => {
      const ex = makeExecutor(options);
      executors.push(ex);
      return ex;
    };
    let release;

    before(() => {
      // A worker dying must not let the process exit before its futures settle; that is tested on
      // its own (thread-pool.test.js, "a busy pool keeps the process alive"). Here, a timer keeps
      // the runner alive so that one bug cannot take the whole file down.
      release = keepAlive();
    });

    afterEach(async () => {
      gates.openAll();
      await Promise.all(executors.splice(0).map((ex) => ex.shutdown({ cancelFutures: true })));
      gates.cleanup();
    });

    after(() => release());

    // ── Future ─────────────────────────────────────────────────────────────────────────────

    describe('Future', () => {
      test('moves pending → running → finished, and cancel() works only before the start', async () => {
        const ex = make({ maxWorkers: 1 });
        const gate = gates.make();
        const first = ex.submit(t.gated, gate.arg, 'first');
        assert.ok(first instanceof Future);
        // With shared memory a task sent to a worker is pending until the worker claims it;
        // without (child processes) it is running once sent, as in Python's ProcessPoolExecutor.
        assert.equal(first.state, sharedMemory ? 'pending' : 'running');
        assert.equal(first.done(), false);
        assert.equal(first.running(), !sharedMemory);
        assert.equal(first.cancelled(), false);
        const second = ex.submit(t.add, 1, 2);
        await gate.started();
        assert.equal(first.state, 'running');
        assert.equal(first.running(), true);
        assert.equal(first.cancel(), false, 'a running future cannot be cancelled');
        assert.equal(first.cancelled(), false);
        assert.equal(second.state, 'pending');
        assert.equal(second.cancel(), true, 'a future whose task has not started can be cancelled');
        assert.equal(second.cancelled(), true);
        assert.equal(second.done(), true);
        assert.equal(second.state, 'cancelled');
        assert.equal(second.cancel(), true, 'cancelling again still says cancelled');
        await rejectsWith(second, CancelledError);
        gate.open();
        assert.equal(await first, 'first');
        assert.equal(first.state, 'finished');
        assert.equal(first.done(), true);
        assert.equal(first.running(), false);
        assert.equal(first.cancel(), false, 'a finished future cannot be cancelled');
        const stats = ex.stats();
        assert.equal(stats.completed, 1);
        assert.equal(stats.cancelled, 1);
      });

      test('a failed future is finished, not cancelled', async () => {
        const ex = make({ maxWorkers: 1 });
        const f = ex.submit(t.throwTypeError);
        await rejectsWith(f, TypeError);
        assert.equal(f.state, 'finished');
        assert.equal(f.cancelled(), false);
        assert.equal(f.cancel(), false);
      });

      test('result({ timeoutMs }) and exception({ timeoutMs }) time out without cancelling the work', async () => {
        const ex = make({ maxWorkers: 1 });
        const gate = gates.make();
        const f = ex.submit(t.gated, gate.arg, 42);
        await gate.started();
        await rejectsWith(f.result({ timeoutMs: 20 }), TimeoutError, /20 ms/);
        await rejectsWith(f.exception({ timeoutMs: 20 }), TimeoutError);
        assert.equal(f.state, 'running', 'the timeout must not cancel the task');
        assert.equal(f.cancelled(), false);
        gate.open();
        assert.equal(await f.result({ timeoutMs: 10_000 }), 42);
        assert.equal(await f.exception(), undefined);
        assert.equal(await f.result({ timeoutMs: 0 }), 42, 'a done future needs no time');
      });

      test('exception() resolves with the error; on a cancelled future it rejects CancelledError', async () => {
        const ex = make({ maxWorkers: 1 });
        const failing = ex.submit(t.throwTypeError);
        const error = await failing.exception();
        assert.ok(error instanceof TypeError);
        assert.equal(error, await failing.catch((e) => e), 'the same error object as awaiting');
        await rejectsWith(failing.result(), TypeError);
        const gate = gates.make();
        ex.submit(t.gated, gate.arg, 1);
        const queued = ex.submit(t.add, 1, 1);
        assert.equal(queued.cancel(), true);
        await rejectsWith(queued.exception(), CancelledError);
        await rejectsWith(queued.result(), CancelledError);
      });

      test('result/exception/resultSync reject bad timeouts, settled or not', async () => {
        const ex = make({ maxWorkers: 1 });
        const f = ex.submit(t.add, 1, 1);
        await failsWith(() => f.result({ timeoutMs: -1 }), RangeError, /timeoutMs/);
        await failsWith(() => f.result({ timeoutMs: 'soon' }), TypeError, /timeoutMs/);
        await failsWith(() => f.exception({ timeoutMs: Number.NaN }), TypeError, /timeoutMs/);
        assert.equal(await f, 2);
        // Settled, the same mistakes are refused all the same: not only when the call would wait.
        await failsWith(() => f.result({ timeoutMs: -1 }), RangeError, /timeoutMs/);
        assert.throws(() => f.resultSync({ timeoutMs: -1 }), RangeError);
        assert.throws(() => f.resultSync({ timeoutMs: Number.NaN }), TypeError);
        assert.throws(() => f.resultSync({ timeoutMs: '5' }), TypeError);
        assert.equal(f.resultSync({ timeoutMs: 0 }), 2);
        assert.throws(() => f.resultSync(null), (e) => e instanceof TypeError && /wait options must be an object/.test(e.message));
        await failsWith(() => f.result(null), TypeError, /wait options must be an object/);
      });

      test('addDoneCallback runs once, with the future, and at once when already done', async () => {
        const ex = make({ maxWorkers: 1 });
        const f = ex.submit(t.add, 2, 3);
        const calls = [];
        f.addDoneCallback((g) => calls.push(['a', g, g.state]));
        f.addDoneCallback((g) => calls.push(['b', g, g.state]));
        assert.equal(await f, 5);
        assert.deepEqual(calls, [['a', f, 'finished'], ['b', f, 'finished']]);
        let late = 0;
        f.addDoneCallback((g) => {
          assert.equal(g, f);
          late++;
        });
        assert.equal(late, 1, 'runs synchronously when the future is already done');
        await f;
        await f.result();
        assert.equal(calls.length, 2, 'never runs twice');
        assert.throws(() => f.addDoneCallback('not a function'), TypeError);
      });

      test('addDoneCallback runs for cancelled futures too', async () => {
        const ex = make({ maxWorkers: 1 });
        const gate = gates.make();
        ex.submit(t.gated, gate.arg, 1);
        const f = ex.submit(t.add, 1, 1);
        const states = [];
        f.addDoneCallback((g) => states.push(g.state));
        f.cancel();
        assert.deepEqual(states, ['cancelled']);
      });

      test('a throwing done callback is reported as a process warning, and the others still run', async () => {
        const ex = make({ maxWorkers: 1 });
        const warnings = [];
        const onWarning = (w) => {
          if (w.code === 'THREADLOOP_DONE_CALLBACK') warnings.push(w);
        };
        process.on('warning', onWarning);
        try {
          const f = ex.submit(t.add, 1, 1);
          let after = 0;
          f.addDoneCallback(() => {
            throw new Error('callback exploded');
          });
          f.addDoneCallback(() => after++);
          assert.equal(await f, 2);
          assert.equal(after, 1, 'a throwing callback must not stop the next one');
          await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on nextTick
          assert.equal(warnings.length, 1);
          assert.match(warnings[0].message, /callback exploded/);
        } finally {
          process.off('warning', onWarning);
        }
      });

      test('awaiting a failed future twice gives the same error, and its stack does not grow', async () => {
        const ex = make({ maxWorkers: 1 });
        const f = ex.submit(t.throwTypeError);
        const first = await f.catch((e) => e);
        const stack = first.stack;
        const second = await f.catch((e) => e);
        const third = await f.result().catch((e) => e);
        assert.equal(second, first);
        assert.equal(third, first);
        assert.equal(second.stack, stack);
      });

      test('is a native Promise: await, Promise.all and then() use it as it is', async () => {
        const ex = make({ maxWorkers: 1 });
        const f = ex.submit(t.add, 2, 3);
        assert.ok(f instanceof Future);
        assert.ok(f instanceof Promise);
        assert.equal(Promise.resolve(f), f, 'Promise.resolve takes a future as it is, no wrapper');
        const chained = f.then((v) => v * 2);
        assert.ok(!(chained instanceof Future), 'then() makes a plain Promise');
        assert.deepEqual(await Promise.all([f, chained, ex.submit(t.add, 1, 1)]), [5, 10, 2]);
        assert.equal(Object.prototype.toString.call(f), '[object Future<finished>]');
        // A future no task would settle cannot be made with the statics Future inherits.
        assert.throws(() => Future.resolve(1), TypeError, /use Promise\.resolve\(\)/);
        assert.throws(() => Future.all([f]), TypeError);
      });

      test('a failed or cancelled future nobody awaits raises no unhandled rejection; awaiting it later rejects', async () => {
        const ex = make({ maxWorkers: 1 });
        const unhandled = [];
        const onUnhandled = (reason) => unhandled.push(reason);
        process.on('unhandledRejection', onUnhandled);
        try {
          const gate = gates.make();
          const blocker = ex.submit(t.gated, gate.arg, 1);
          const failed = ex.submit(t.throwTypeError);
          const cancelled = ex.submit(t.add, 1, 1);
          assert.equal(cancelled.cancel(), true);
          gate.open();
          await blocker;
          await new Promise((resolve) => failed.addDoneCallback(() => resolve()));
          await delay(0); // unhandled rejections are reported after the microtask queue drains
          await delay(0);
          assert.deepEqual(unhandled, []);
          await rejectsWith(failed, TypeError);
          await rejectsWith(cancelled, CancelledError);
        } finally {
          process.off('unhandledRejection', onUnhandled);
        }
      });
    });

    // ── wait / asCompleted ─────────────────────────────────────────────────────────────────

    describe('wait()', () => {
      test('FIRST_COMPLETED returns when one future is done', async () => {
        const ex = make({ maxWorkers: 2 });
        const [g1, g2] = [gates.make(), gates.make()];
        const f1 = ex.submit(t.gated, g1.arg, 1);
        const f2 = ex.submit(t.gated, g2.arg, 2);
        const waiting = wait([f1, f2], { returnWhen: 'FIRST_COMPLETED' });
        assert.equal(await isPending(waiting), true);
        g1.open();
        const { done, notDone } = await waiting;
        assert.deepEqual([...done], [f1]);
        assert.deepEqual([...notDone], [f2]);
        g2.open();
        assert.equal(await f2, 2);
      });

      test('FIRST_EXCEPTION returns at the first failure; without one, when all are done', async () => {
        const ex = make({ maxWorkers: 2 });
        const gate = gates.make();
        const slow = ex.submit(t.gated, gate.arg, 1);
        const failing = ex.submit(t.throwTypeError);
        const { done, notDone } = await wait([slow, failing], { returnWhen: 'FIRST_EXCEPTION' });
        assert.deepEqual([...done], [failing]);
        assert.deepEqual([...notDone], [slow]);
        gate.open();
        const ok = [ex.submit(t.add, 1, 1), ex.submit(t.add, 2, 2)];
        const all = await wait([...ok, slow], { returnWhen: 'FIRST_EXCEPTION' });
        assert.equal(all.done.size, 3);
        assert.equal(all.notDone.size, 0);
        await rejectsWith(failing, TypeError); // wait() only asked whether it failed
      });

      test('ALL_COMPLETED (the default) waits for every future, cancelled ones counting as done', async () => {
        const ex = make({ maxWorkers: 1 });
        const gate = gates.make();
        const running = ex.submit(t.gated, gate.arg, 'r');
        const cancelled = ex.submit(t.add, 1, 1);
        const failing = ex.submit(t.throwTypeError);
        assert.equal(cancelled.cancel(), true);
        const waiting = wait([running, cancelled, failing]);
        await gate.started();
        assert.equal(await isPending(waiting), true);
        gate.open();
        const { done, notDone } = await waiting;
        assert.equal(done.size, 3);
        assert.equal(notDone.size, 0);
        await rejectsWith(failing, TypeError);
      });

      test('timeoutMs resolves with what is done so far (never rejects)', async () => {
        const ex = make({ maxWorkers: 2 });
        const gate = gates.make();
        const slow = ex.submit(t.gated, gate.arg, 1);
        const quick = ex.submit(t.add, 1, 1);
        await quick;
        const { done, notDone } = await wait([slow, quick], { timeoutMs: 30 });
        assert.deepEqual([...done], [quick]);
        assert.deepEqual([...notDone], [slow]);
      });

      test('bad arguments are rejected', async () => {
        await failsWith(() => wait([], { returnWhen: 'SOMETIMES' }), RangeError, /returnWhen/);
        await failsWith(() => wait([], { timeoutMs: -5 }), RangeError, /timeoutMs/);
        const { done, notDone } = await wait([]);
        assert.equal(done.size + notDone.size, 0);
      });
    });

    describe('asCompleted()', () => {
      test('yields futures (not values) in completion order', async () => {
        const ex = make({ maxWorkers: 3 });
        const gs = [gates.make(), gates.make(), gates.make()];
        const fs = gs.map((g, i) => ex.submit(t.gated, g.arg, `v${i}`));
        const it = asCompleted(fs);
        const order = [];
        for (const i of [1, 2, 0]) {
          gs[i].open();
          const { value, done } = await it.next();
          assert.equal(done, false);
          assert.ok(value instanceof Future, 'asCompleted yields the futures themselves');
          order.push(fs.indexOf(value));
          assert.equal(await value, `v${i}`);
        }
        assert.deepEqual(order, [1, 2, 0]);
        assert.equal((await it.next()).done, true);
      });

      test('for await works, and already-done and failed futures are yielded too', async () => {
        const ex = make({ maxWorkers: 2 });
        const ok = ex.submit(t.add, 1, 1);
        await ok;
        const failing = ex.submit(t.throwTypeError);
        const seen = [];
        for await (const f of asCompleted([ok, failing])) seen.push(f);
        assert.equal(seen.length, 2);
        assert.equal(seen[0], ok);
        assert.equal(seen[1], failing);
        await rejectsWith(failing, TypeError);
      });

      test('counts cancelled futures as done, so it never hangs on one (Python gh-92001)', async () => {
        const ex = make({ maxWorkers: 1 });
        const gate = gates.make();
        const running = ex.submit(t.gated, gate.arg, 'r');
        const victim = ex.submit(t.add, 1, 1);
        const it = asCompleted([running, victim]);
        assert.equal(victim.cancel(), true);
        const first = await it.next();
        assert.equal(first.value, victim);
        assert.equal(first.value.cancelled(), true);
        gate.open();
        const second = await it.next();
        assert.equal(second.value, running);
        assert.equal((await it.next()).done, true);
      });

      test('throws TimeoutError when not all are done in time, saying how many are missing', async () => {
        const ex = make({ maxWorkers: 2 });
        await Promise.all([ex.submit(t.add, 1, 1), ex.submit(t.add, 1, 1)]); // both workers started
        const gate = gates.make();
        const quick = ex.submit(t.add, 1, 1);
        const slow = ex.submit(t.gated, gate.arg, 1);
        await quick; // done before the deadline starts, on a loaded machine too: it still comes first
        const it = asCompleted([quick, slow], { timeoutMs: 200 });
        assert.equal((await it.next()).value, quick);
        await rejectsWith(it.next(), TimeoutError, /^1 of 2 futures did not finish within 200 ms/);
        assert.equal(slow.cancelled(), false, 'the timeout does not cancel the futures');
      });

      test('bad timeouts are rejected', async () => {
        await failsWith(() => asCompleted([], { timeoutMs: 'x' }), TypeError, /timeoutMs/);
      });
    });

    // ── tasks ──────────────────────────────────────────────────────────────────────────────

    describe('tasks', () => {
      test('module tasks and inline functions run, sync and async', async () => {
        const ex = make({ maxWorkers: 2 });
        assert.equal(await ex.submit(t.add, 2, 3), 5);
        assert.equal(await ex.submit(t.fib, 20), 6765);
        assert.deepEqual(await ex.submit(t.asyncEcho, { a: [1, 2] }), { a: [1, 2] });
        assert.equal(await ex.submit((a, b) => a * b, 6, 7), 42);
        assert.equal(await ex.submit(async (s) => s.toUpperCase(), 'hi'), 'HI');
        assert.equal(await ex.submit(function named(x) { return x + 1; }, 1), 2);
        // inline tasks get a `require` on the worker (they cannot import)
        // eslint-disable-next-line no-undef
        assert.equal(await ex.submit(() => require('node:path').basename('/a/b.txt')), 'b.txt');
        const ids = await Promise.all([ex.submit(t.workerIdentity), ex.submit(t.workerIdentity)]);
        assert.ok(ids.every((id) => typeof id === 'string'));
      });

      test('queue job options (attempts, backoff, priority) are refused at the call: a local pool runs a call once', async () => {
        const ex = make({ maxWorkers: 1 });
        const refused = (e) => e instanceof TypeError && /QueueExecutor/.test(e.message);
        assert.throws(() => ex.submit(t.add.with({ attempts: 3 }), 1, 2), (e) => refused(e) && /attempts: undefined/.test(e.message));
        assert.throws(() => ex.submit(t.add.with({ backoff: 100, priority: 2 }), 1, 2), (e) => refused(e) && /backoff, priority/.test(e.message));
        assert.throws(() => ex.map(t.add.with({ attempts: 2 }), [1, 2]), refused);
        assert.throws(() => t.add.with({ attempts: 0 }), RangeError);
        assert.throws(() => t.add.with({ backoff: { type: 'linear', delayMs: 1 } }), TypeError);
        assert.throws(() => t.add.with({ priority: 1.5 }), RangeError);
        // dropped again, the task runs
        assert.equal(await ex.submit(t.add.with({ attempts: 3 }).with({ attempts: undefined }), 1, 2), 3);
        assert.equal(ex.stats().completed, 1);
      });

      test('an export that does not exist, or is not a function, rejects with TaskNotFoundError', async () => {
        const ex = make({ maxWorkers: 1 });
        await rejectsWith(ex.submit(t.noSuchExport), TaskNotFoundError, /noSuchExport/);
        await rejectsWith(ex.submit(t.notAFunction), TaskNotFoundError, /notAFunction/);
        const missing = taskModule(fixtureUrl('does-not-exist.js'));
        const error = await rejectsWith(ex.submit(missing.anything), TaskNotFoundError, /taskModule\(\) URL file:.*\/does-not-exist\.js was not found/);
        assert.equal(error.code, 'ERR_TASK_NOT_FOUND');
        assert.doesNotMatch(error.message, /exists/);
        assert.equal(await ex.submit(t.add, 1, 1), 2, 'the worker keeps serving');
      });

      test('a taskModule() URL naming a .js file where only the .ts exists (or the reverse) says so', async () => {
        const ex = make({ maxWorkers: 1 });
        // Under tsx, `import './math.js'` finds math.ts; a worker is given the URL as it is.
        const jsForTs = taskModule(fixtureUrl('ts/math.js'));
        await rejectsWith(ex.submit(jsForTs.fib, 10), TaskNotFoundError, /URL file:.*\/ts\/math\.js was not found, but .*\/ts\/math\.ts exists/);
        // After tsc, the .ts source is gone from dist/.
        const tsForJs = taskModule(fixtureUrl('tasks.ts'));
        await rejectsWith(ex.submit(tsForJs.add, 1, 1), TaskNotFoundError, /URL file:.*\/tasks\.ts was not found, but .*\/tasks\.js exists/);
        // A module that exists but imports one that does not keeps the loader's own error.
        const brokenImport = taskModule(fixtureUrl('missing-import.js'));
        const error = await rejectsWith(ex.submit(brokenImport.run), Error);
        assert.equal(error.code, 'ERR_MODULE_NOT_FOUND');
        assert.match(error.message, /no-such-dependency/);
      });

      test('taskModule and submit reject what is not a task', async () => {
        const ex = make({ maxWorkers: 1 });
        assert.throws(() => taskModule('./relative.js'), (e) => e instanceof TypeError && /'\.\/relative\.js' is relative/.test(e.message));
        // A file path is not a URL: the error says so, and what to pass instead.
        assert.throws(() => taskModule('/srv/app/tasks.js'), (e) => e instanceof TypeError && /is a file path: pass pathToFileURL\("\/srv\/app\/tasks\.js"\)/.test(e.message));
        assert.throws(() => taskModule(42), TypeError);
        assert.throws(() => ex.submit(42), TypeError);
        assert.throws(() => ex.submit('add'), TypeError);
        assert.throws(() => t.add.with(null), TypeError);
        assert.throws(() => t.add.with({ signal: 'abort' }), TypeError, /signal/);
        assert.throws(() => t.add.with({ timeoutMs: -1 }), RangeError, /timeoutMs/);
        assert.throws(() => t.add.with({ timeoutMs: 'long' }), TypeError, /timeoutMs/);
        assert.throws(() => t.add.with({ transfer: 'buf' }), TypeError, /transfer/);
      });

      test('an inline task capturing an outer variable rejects with TaskSerializationError naming it', async () => {
        const ex = make({ maxWorkers: 1 });
        const secretOffset = 10;
        const error = await rejectsWith(ex.submit((x) => x + secretOffset, 1), TaskSerializationError, /secretOffset/);
        assert.match(error.message, /argument|taskModule/);
        assert.equal(error.code, 'ERR_TASK_SERIALIZATION');
      });

      test('a native function throws TaskSerializationError at submit', () => {
        const ex = make({ maxWorkers: 1 });
        assert.throws(() => ex.submit(Math.max, 1, 2), TaskSerializationError);
        assert.throws(() => ex.submit(((x) => x).bind(null), 1), TaskSerializationError);
        assert.throws(() => ex.submit(class Foo {}), TaskSerializationError);
        assert.equal(ex.stats().workers, 0, 'nothing was started for it');
      });

      test('an uncloneable argument throws at submit, naming its index, and nothing is enqueued', async () => {
        const ex = make({ maxWorkers: 1 });
        const gate = gates.make();
        const running = ex.submit(t.gated, gate.arg, 1);
        await gate.started();
        const queued = ex.submit(t.add.with({ timeoutMs: 60_000 }), 1, 1); // abortable: waits in the queue
        const before = ex.stats();
        assert.equal(before.queued, 1);
        const cases = [
          [[() => 1], new RegExp(`argument 0 .*cannot be sent to a ${kind}`)],
          [[1, Promise.resolve(2)], /argument 1.*Promise/],
          [[1, 2, { nested: { fn() {} } }], /argument 2.*function/],
          [[Symbol('s')], /argument 0.*symbol/],
        ];
        for (const [args, message] of cases) {
          assert.throws(() => ex.submit(t.echo, ...args), (error) => {
            assert.ok(error instanceof TaskSerializationError, `got ${error}`);
            assert.match(error.message, message);
            return true;
          });
        }
        const afterwards = ex.stats();
        assert.equal(afterwards.queued, before.queued);
        assert.equal(afterwards.running, before.running);
        assert.equal(afterwards.failed, before.failed);
        gate.open();
        assert.equal(await running, 1);
        assert.equal(await queued, 2);
      });

      test('a deeply nested argument arrives intact, or fails with TaskSerializationError saying why; never a crash', blockedOn({ deno: 'a message nested deeper than Deno rebuilds is dropped, and the test would wait forever' }), async () => {
        const ex = make({ maxWorkers: 1 });
        const nested = (n) => {
          let v = {};
          for (let i = 0; i < n; i++) v = { a: v };
          return v;
        };
        if (kind === 'worker thread') {
          // Deeper than the recursive pre-check could walk, within what structured clone rebuilds.
          assert.equal(await ex.submit(t.depth, nested(2800)), 2800);
          // One this main thread's structured clone cannot write (3,075 levels on Node 20) fails
          // at submit, not later as the call is sent.
          await failsWith(() => ex.submit(t.depth, nested(3500)), TaskSerializationError, /argument 0 .*nested more than 3000 levels deep/);
        } else {
          // A child process rebuilds messages on a main thread's smaller stack.
          await failsWith(() => ex.submit(t.depth, nested(2800)), TaskSerializationError, /argument 0 .*nested more than 1000 levels deep/);
          assert.equal(await ex.submit(t.depth, nested(999)), 999); // 1,000 objects
        }
        const error = await failsWith(() => ex.submit(t.depth, nested(100_000)), TaskSerializationError, /argument 0 .*nested more than \d+ levels deep/);
        assert.equal(error.code, 'ERR_TASK_SERIALIZATION');
        // Once a queue or lock exists in this thread, arguments are also searched for them.
        new ThreadEvent();
        await failsWith(() => ex.submit(t.depth, nested(100_000)), TaskSerializationError, /argument 0 .*nested more than \d+ levels deep/);
        // A result too deep to send back fails its own future.
        await rejectsWith(ex.submit(t.nested, 100_000), TaskSerializationError, /result .*nested/);
        // One this (main) thread could not rebuild: a worker thread's message would be dropped
        // (its future never settling), and Node's IPC reader would crash this process.
        await rejectsWith(ex.submit(t.nested, 2500), TaskSerializationError, /result .*nested more than 1000 levels deep/);
        assert.equal(await ex.submit(t.depth, await ex.submit(t.nested, 999)), 999);
        assert.equal(await ex.submit(t.add, 2, 2), 4, 'the worker keeps serving');
      });

      test('an uncloneable result fails that future; the worker keeps serving', async () => {
        const ex = make({ maxWorkers: 1 });
        const before = await ex.submit(t.workerIdentity);
        await rejectsWith(ex.submit(t.returnFunction), TaskSerializationError, /result/);
        assert.equal(await ex.submit(t.add, 2, 2), 4);
        assert.equal(await ex.submit(t.workerIdentity), before, 'the same worker still serves');
      });

      test('currentTask() gives a running task its id, name and signal — before its first await', async () => {
        const ex = make({ maxWorkers: 1 });
        const info = await ex.submit(t.taskInfo);
        assert.equal(info.name, 'taskInfo');
        assert.equal(typeof info.id, 'number');
        assert.equal(info.aborted, false);
        const other = await ex.submit(t.taskInfo);
        assert.notEqual(other.id, info.id, 'each call has its own id');
        await rejectsWith(ex.submit(t.lateCurrentTask), Error, /currentTask\(\)/);
        assert.throws(() => currentTask(), /outside a running task/);
      });

      test('task.with({ transfer }) moves an ArrayBuffer argument: the caller\'s copy is detached', async () => {
        const ex = make({ maxWorkers: 1 });
        const buffer = new ArrayBuffer(64);
        assert.equal(await ex.submit(t.byteLength.with({ transfer: [buffer] }), buffer), 64);
        assert.equal(buffer.byteLength, 0, 'the buffer was moved, not copied');
        const copied = new ArrayBuffer(8);
        assert.equal(await ex.submit(t.byteLength, copied), 8);
        assert.equal(copied.byteLength, 8, 'without transfer the buffer is copied');
        // The common mistakes are refused at the call, naming the entry.
        assert.throws(() => t.byteLength.with({ transfer: [new Uint8Array(8)] }), (e) => e instanceof TypeError && /transfer\[0\] is a Uint8Array: transfer its \.buffer/.test(e.message));
        assert.throws(() => t.byteLength.with({ transfer: [new SharedArrayBuffer(8)] }), (e) => e instanceof TypeError && /transfer\[0\] is a SharedArrayBuffer/.test(e.message));
        assert.throws(() => t.byteLength.with({ transfer: ['buffer'] }), (e) => e instanceof TypeError && /transfer\[0\] must be a transferable/.test(e.message));
      });

      test('move() in a task transfers the result', async () => {
        const ex = make({ maxWorkers: 1 });
        const bytes = await ex.submit(t.makeMoved, 32);
        assert.ok(bytes instanceof Uint8Array);
        assert.equal(bytes.length, 32);
        assert.equal(bytes[31], 7);
        assert.equal(await ex.submit(t.lastMovedDetached), true, 'the worker\'s buffer was transferred');
      });
    });

    // ── errors ─────────────────────────────────────────────────────────────────────────────

    describe('errors from tasks', () => {
      test('a TypeError arrives as a TypeError with message, own props, cause chain and remote stack', async () => {
        const ex = make({ maxWorkers: 1 });
        const error = await rejectsWith(ex.submit(t.throwTypeError), TypeError, /^bad thing$/);
        assert.equal(error.name, 'TypeError');
        assert.equal(error.code, 'E_BAD');
        assert.deepEqual(error.extra, { nested: [1, 2] });
        assert.ok(error.cause instanceof RangeError);
        assert.equal(error.cause.message, 'inner problem');
        assert.equal(error.cause.detail, 42);
        assert.match(error.stack, /throwTypeError/, 'the stack shows where it was thrown');
        assert.match(error.stack, /fixtures[\\/]tasks\.js/);
        assert.doesNotMatch(error.stack, /called from another thread/, 'caller stacks are opt-in');
      });

      test('thrown non-Error values arrive as thrown', async () => {
        const ex = make({ maxWorkers: 1 });
        assert.equal(await ex.submit(t.throwValue, 42).catch((e) => e), 42);
        assert.equal(await ex.submit(t.throwValue, 'text').catch((e) => e), 'text');
        assert.deepEqual(await ex.submit(t.throwValue, { a: 1 }).catch((e) => e), { a: 1 });
        assert.equal(await ex.submit(t.rejectValue, null).catch((e) => e), null);
        const f = ex.submit(t.rejectValue, undefined);
        let rejected = false;
        await f.then(() => {}, (e) => {
          rejected = true;
          assert.equal(e, undefined);
        });
        assert.equal(rejected, true);
        assert.equal(f.state, 'finished');
      });

      test('an AggregateError keeps its errors', async () => {
        const ex = make({ maxWorkers: 1 });
        const error = await rejectsWith(ex.submit(t.throwAggregate), AggregateError, /several/);
        assert.equal(error.errors.length, 3);
        assert.ok(error.errors[0] instanceof TypeError);
        assert.equal(error.errors[0].message, 'first');
        assert.equal(error.errors[1].message, 'second');
        assert.equal(error.errors[2], 'third');
      });

      test('callerStacks: true appends the submitting stack', async () => {
        const ex = make({ maxWorkers: 1, callerStacks: true });
        const error = await rejectsWith(ex.submit(t.throwTypeError), TypeError);
        assert.match(error.stack, /throwTypeError/);
        assert.match(error.stack, /called from another thread/);
        assert.match(error.stack, /executor-suite\.js/, 'the caller\'s frames are there');
      });

      test('threadloop errors all extend ThreadloopError and carry a code', () => {
        for (const Class of [AbortError, BrokenExecutorError, CancelledError, ExecutorShutdownError, QueueFullError, TaskNotFoundError, TaskSerializationError, TimeoutError]) {
          const error = new Class('x');
          assert.ok(error instanceof ThreadloopError);
          assert.ok(error instanceof Error);
          assert.equal(error.name, Class.name);
          assert.match(error.code, /^ERR_/);
        }
        const crash = new WorkerCrashedError('gone', { exitCode: 3 });
        assert.equal(crash.exitCode, 3);
        assert.equal(crash.code, 'ERR_WORKER_CRASHED');
      });
    });

    // ── submit, map ────────────────────────────────────────────────────────────────────────

    describe('batching', () => {
      /** A one-worker pool whose worker trusts `busyThenGate`. */
      async function trustingWorker() {
        const ex = make({ maxWorkers: 1 });
        // 16 fast runs in a row (busy for 10 µs, like the calls below, so that the loop is compiled
        // already): the worker now runs this task before sending what it holds.
        for (let i = 0; i < 40; i++) assert.equal(await ex.submit(t.busyThenGate, 10), 'ran');
        return ex;
      }

      /** Submits a call whose result, once it arrives here, opens the returned gate. */
      function resultOpensGate(ex) {
        const gate = gates.make();
        ex.submit(t.busyThenGate, 0).addDoneCallback(() => gate.open());
        return gate;
      }

      test('in a short batch a result is sent before the next call runs, however fast the task', async () => {
        const ex = await trustingWorker();
        const gate = resultOpensGate(ex);
        // Sent in the same frame, and the last call in it: it waits for the result before it.
        assert.equal(await ex.submit(t.busyThenGate, 0, gate.arg), 'opened');
      });

      test('a result is not held back more than 200 µs by fast tasks queued behind it', async () => {
        const ex = await trustingWorker();
        const gate = resultOpensGate(ex);
        // In the same frame: 40 tasks of 10 µs (fast, ~0.4 ms together), then one that waits for
        // the result before them, then a few more. Were that result held until the batch ends,
        // it never would arrive.
        const fillers = Array.from({ length: 40 }, () => ex.submit(t.busyThenGate, 10));
        const waiter = ex.submit(t.busyThenGate, 0, gate.arg);
        const after = Array.from({ length: 10 }, () => ex.submit(t.busyThenGate, 0));
        assert.equal(await waiter, 'opened');
        await Promise.all([...fillers, ...after]);
      });
    });

    describe('map()', () => {
      test('is lazy: an endless input is pulled a bounded number of times', async () => {
        const ex = make({ maxWorkers: 2 });
        let pulled = 0;
        let closed = false;
        function* naturals() {
          try {
            for (let i = 0; ; i++) {
              pulled++;
              yield i;
            }
          } finally {
            closed = true;
          }
        }
        const results = [];
        for await (const value of ex.map(t.double, naturals())) {
          results.push(value);
          if (results.length === 5) break;
        }
        assert.deepEqual(results, [0, 2, 4, 6, 8]);
        assert.ok(pulled < 200, `pulled ${pulled} items for 5 results`);
        assert.equal(closed, true, 'breaking out closes the input');
        const limited = [];
        pulled = 0;
        for await (const value of ex.map(t.double, naturals(), { concurrency: 3 })) {
          limited.push(value);
          if (limited.length === 4) break;
        }
        assert.ok(pulled <= 3 + 4 + 1, `with concurrency 3, pulled ${pulled} items for 4 results`);
      });

      test('yields in input order by default', async () => {
        const ex = make({ maxWorkers: 2 });
        const gate = gates.make();
        const items = [{ gate: gate.arg, value: 'slow' }, 'a', 'b', 'c'];
        const it = ex.map(t.gatedItem, items);
        const first = it.next();
        await gate.started();
        assert.equal(await isPending(first), true, 'the first result waits for the first item');
        gate.open();
        const results = [(await first).value];
        for await (const value of it) results.push(value);
        assert.deepEqual(results, ['slow', 'a', 'b', 'c']);
      });

      test('ordered: false yields as results finish', async () => {
        const ex = make({ maxWorkers: 2 });
        const gate = gates.make();
        const it = ex.map(t.gatedItem, [{ gate: gate.arg, value: 'slow' }, 'quick'], { ordered: false });
        assert.equal((await it.next()).value, 'quick');
        gate.open();
        assert.equal((await it.next()).value, 'slow');
        assert.equal((await it.next()).done, true);
      });

      test('chunkSize sends several items per task, results still one per item', async () => {
        const ex = make({ maxWorkers: 2 });
        const results = [];
        for await (const value of ex.map(t.double, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], { chunkSize: 3 })) results.push(value);
        assert.deepEqual(results, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
        assert.equal(ex.stats().completed, 4, '10 items in chunks of 3 are 4 tasks');
      });

      test('takes async iterables', async () => {
        const ex = make({ maxWorkers: 2 });
        async function* source() {
          for (let i = 1; i <= 5; i++) {
            await null;
            yield i;
          }
        }
        const results = [];
        for await (const value of ex.map(t.double, source())) results.push(value);
        assert.deepEqual(results, [2, 4, 6, 8, 10]);
      });

      test('timeoutMs throws TimeoutError and cancels what is left', async () => {
        const ex = make({ maxWorkers: 1 });
        await ex.submit(t.double, 1); // started: the deadline below is not spent starting a worker
        const gate = gates.make();
        const items = [{ gate: gate.arg, value: 'stuck' }, 1, 2, 3, 4];
        const results = [];
        // 2 s: the worker must have taken the first item by then (or all five would be cancelled), on a loaded machine too.
        const iterated = (async () => {
          for await (const value of ex.map(t.gatedItem, items, { timeoutMs: 2000 })) results.push(value);
        })();
        await gate.started();
        await rejectsWith(iterated, TimeoutError);
        assert.deepEqual(results, []);
        assert.equal(ex.stats().cancelled, 4, 'the items that had not started were cancelled');
        gate.open();
        await ex.idle();
        assert.equal(ex.stats().completed, 2);
      });

      test('an error in one item rejects the iteration', async () => {
        const ex = make({ maxWorkers: 2 });
        const results = [];
        await rejectsWith((async () => {
          for await (const value of ex.map(t.checkNumber, [1, 2, 'three', 4, 5])) results.push(value);
        })(), TypeError, /not a number: three/);
        assert.deepEqual(results, [2, 4]);
      });

      test('breaking out early cancels the items not started', async () => {
        const ex = make({ maxWorkers: 1 });
        const gate = gates.make();
        const items = ['first', { gate: gate.arg, value: 'blocked' }, 'c', 'd', 'e', 'f'];
        const it = ex.map(t.gatedItem, items);
        // The result of 'first' must not be held hostage by the blocked item behind it.
        const first = await within(it.next(), 5000, 'the first result (while the second item blocks)');
        assert.equal(first.value, 'first');
        await gate.started();
        await it.return(); // what `break` in a for await does
        assert.equal(ex.stats().cancelled, 4);
        gate.open();
        await ex.idle();
        assert.equal(ex.stats().completed, 2);
      });

      test('rejects bad arguments at the call', async () => {
        const ex = make({ maxWorkers: 1 });
        assert.throws(() => ex.map(t.double, null), TypeError, /items/);
        assert.throws(() => ex.map(t.double, 42), TypeError, /items/);
        assert.throws(() => ex.map(t.double, [1], { chunkSize: 0 }), RangeError, /chunkSize/);
        assert.throws(() => ex.map(t.double, [1], { chunkSize: 1.5 }), RangeError, /chunkSize/);
        assert.throws(() => ex.map(t.double, [1], { timeoutMs: -1 }), RangeError, /timeoutMs/);
        assert.throws(() => ex.map(t.double, [1], { concurrency: 0 }), RangeError, /concurrency/);
        assert.throws(() => ex.map(42, [1]), TypeError);
        // A misspelt option is named, not ignored (plain JavaScript has no type check to catch it).
        assert.throws(() => ex.map(t.double, [1], { concurency: 2 }), (e) => e instanceof TypeError && /map: unknown option 'concurency'/.test(e.message));
        assert.throws(() => ex.map(t.double, [1], { ordered: 'no' }), (e) => e instanceof TypeError && /ordered must be a boolean/.test(e.message));
        assert.throws(() => ex.submit(t.add.with({ timeOutMs: 100 }), 1, 2), (e) => e instanceof TypeError && /task\.with\(\): unknown option 'timeOutMs'/.test(e.message));
      });
    });

    // ── shutdown ───────────────────────────────────────────────────────────────────────────

    describe('shutdown()', () => {
      test('is idempotent; afterwards submit throws ExecutorShutdownError', async () => {
        const ex = make({ maxWorkers: 1 });
        assert.equal(await ex.submit(t.add, 1, 1), 2);
        const first = ex.shutdown();
        const second = ex.shutdown();
        await Promise.all([first, second]);
        await ex.shutdown();
        assert.equal(ex.stats().workers, 0);
        assert.throws(() => ex.submit(t.add, 1, 1), ExecutorShutdownError);
        assert.throws(() => ex.map(t.add, [1]), ExecutorShutdownError);
        await rejectsWith(ex.submitAsync(t.add, 1, 1), ExecutorShutdownError);
        await failsWith(() => ex.shutdown(null), TypeError);
      });

      test('waits for running and queued work by default', async () => {
        const ex = make({ maxWorkers: 1 });
        const gate = gates.make();
        const running = ex.submit(t.gated, gate.arg, 'r');
        const queued = ex.submit(t.add, 1, 2);
        await gate.started();
        const done = ex.shutdown();
        assert.equal(await isPending(done), true);
        gate.open();
        await done;
        assert.equal(running.state, 'finished');
        assert.equal(await queued, 3);
        assert.equal(ex.stats().workers, 0);
      });

      test('{ wait: false } returns at once while queued work still completes', async () => {
        const ex = make({ maxWorkers: 1 });
        const gate = gates.make();
        const running = ex.submit(t.gated, gate.arg, 'r');
        const queued = ex.submit(t.add.with({ timeoutMs: 60_000 }), 2, 3);
        await gate.started();
        await ex.shutdown({ wait: false });
        assert.equal(running.done(), false);
        assert.equal(queued.done(), false);
        assert.throws(() => ex.submit(t.add, 1, 1), ExecutorShutdownError);
        gate.open();
        assert.equal(await running, 'r');
        assert.equal(await queued, 5);
        await ex.shutdown();
        assert.equal(ex.stats().workers, 0);
      });

      test('{ cancelFutures: true } cancels what has not started', async () => {
        const ex = make({ maxWorkers: 1 });
        const gate = gates.make();
        const running = ex.submit(t.gated, gate.arg, 'r');
        const sentAhead = ex.submit(t.add, 1, 1);
        const queued = ex.submit(t.add.with({ timeoutMs: 60_000 }), 1, 1);
        await gate.started();
        const done = ex.shutdown({ cancelFutures: true });
        assert.equal(sentAhead.cancelled(), true);
        assert.equal(queued.cancelled(), true);
        assert.equal(running.cancelled(), false);
        await rejectsWith(queued, CancelledError);
        gate.open();
        await done;
        assert.equal(await running, 'r');
        assert.equal(ex.stats().cancelled, 2);
      });

      test('{ cancelFutures: true } and { force: true } cancel every call not started, on every worker', async () => {
        // Calls spread over two workers, none started: as the shutdown cancels one worker's calls,
        // that worker must not take (steal) the other's, which would then run after the shutdown.
        for (const options of [{ cancelFutures: true }, { force: true }]) {
          const ex = make({ maxWorkers: 2 });
          const futures = Array.from({ length: 50 }, (_, i) => ex.submit(t.add, i, 1));
          // (A process pool counts a call it sent as started: the child has no cell to withdraw it from.)
          const started = futures.filter((f) => f.state === 'running');
          const notStarted = futures.filter((f) => f.state !== 'running');
          const done = ex.shutdown(options);
          const notCancelled = () => notStarted.filter((f) => !f.cancelled()).map((f) => f.state);
          assert.deepEqual(notCancelled(), [], JSON.stringify(options));
          await done;
          assert.deepEqual(notCancelled(), [], JSON.stringify(options));
          assert.ok(started.every((f) => f.done()));
          assert.equal(ex.stats().completed, options.force ? 0 : started.length);
          assert.equal(ex.stats().workers, 0);
        }
      });

      test('[Symbol.asyncDispose] shuts the executor down', async () => {
        const ex = make({ maxWorkers: 1 });
        assert.equal(typeof ex[Symbol.asyncDispose], 'function');
        assert.equal(await ex.submit(t.add, 1, 1), 2);
        await ex[Symbol.asyncDispose]();
        assert.equal(ex.stats().workers, 0);
        assert.throws(() => ex.submit(t.add, 1, 1), ExecutorShutdownError);
      });

      test('`await using` shuts the executor down at the end of the block (where the syntax parses)', async () => {
        const holder = { ex: undefined };
        let block;
        try {
          // Node 20 may not parse `await using`; then the block calls [Symbol.asyncDispose] itself.
          block = new Function('holder', 'make', 'return (async () => { await using ex = make({ maxWorkers: 1 }); holder.ex = ex; return await ex.submit((a, b) => a + b, 1, 2); })();');
        } catch {
          block = async (h, mk) => {
            const ex = mk({ maxWorkers: 1 });
            h.ex = ex;
            try {
              return await ex.submit((a, b) => a + b, 1, 2);
            } finally {
              await ex[Symbol.asyncDispose]();
            }
          };
        }
        assert.equal(await block(holder, make), 3);
        assert.throws(() => holder.ex.submit(t.add, 1, 1), ExecutorShutdownError);
        assert.equal(holder.ex.stats().workers, 0);
      });
    });

    // ── stats and options ──────────────────────────────────────────────────────────────────

    describe('stats() and options', () => {
      test('stats() counts workers, busy, queued, running, completed, failed, cancelled and timings', async () => {
        const ex = make({ maxWorkers: 2 });
        const empty = ex.stats();
        assert.deepEqual(
          [empty.workers, empty.busy, empty.queued, empty.running, empty.completed, empty.failed, empty.cancelled],
          [0, 0, 0, 0, 0, 0, 0],
        );
        const gate = gates.make();
        const g1 = ex.submit(t.gated, gate.arg, 1);
        const g2 = ex.submit(t.gated, gate.arg, 2);
        const q1 = ex.submit(t.add.with({ timeoutMs: 60_000 }), 1, 1);
        const q2 = ex.submit(t.add.with({ timeoutMs: 60_000 }), 1, 1);
        await gate.started(2);
        let s = ex.stats();
        assert.equal(s.workers, 2);
        assert.equal(s.busy, 2);
        assert.equal(s.running, 2);
        assert.equal(s.queued, 2);
        q2.cancel();
        gate.open();
        await Promise.all([g1, g2, q1]);
        await rejectsWith(ex.submit(t.throwTypeError), TypeError);
        await ex.idle();
        s = ex.stats();
        assert.equal(s.completed, 3);
        assert.equal(s.failed, 1);
        assert.equal(s.cancelled, 1);
        assert.equal(s.busy, 0);
        assert.equal(s.queued, 0);
        assert.equal(s.running, 0);
        assert.equal(s.runTime.count, 4);
        assert.ok(s.runTime.max >= s.runTime.p50 && s.runTime.p50 >= 0);
        assert.ok(s.waitTime.count >= 4);
      });

      test('every option is validated: wrong type → TypeError, out of range → RangeError, naming it', () => {
        const typeErrors = {
          maxWorkers: 'four',
          minWorkers: '1',
          idleTimeoutMs: '10s',
          maxQueue: {},
          initializer: 42,
          initArgs: 'a',
          name: 42,
          env: 'PATH=/bin',
          execArgv: '--no-warnings',
          abortGraceMs: true,
          maxTasksPerWorker: '5',
          callerStacks: 'yes',
        };
        for (const [option, value] of Object.entries(typeErrors)) {
          assert.throws(() => make({ [option]: value }), (error) => {
            assert.ok(error instanceof TypeError, `${option}: ${value} → ${error}`);
            assert.match(error.message, new RegExp(option));
            return true;
          });
        }
        assert.throws(() => make({ execArgv: [1] }), TypeError, /execArgv/);
        assert.throws(() => make({ env: null }), TypeError, /env/);
        assert.throws(() => make({ maxWorkers: Number.NaN }), TypeError, /maxWorkers/);
        const rangeErrors = [
          // A pool of Infinity workers would spawn threads without end (minWorkers) or forever.
          ['maxWorkers', Infinity],
          ['maxWorkers', 0],
          ['maxWorkers', 1.5],
          ['maxWorkers', -2],
          ['minWorkers', -1],
          ['idleTimeoutMs', -1],
          ['maxQueue', -1],
          ['abortGraceMs', -1],
          ['maxTasksPerWorker', 0],
          ['maxQueue', -Infinity],
        ];
        for (const [option, value] of rangeErrors) {
          assert.throws(() => make({ [option]: value }), (error) => {
            assert.ok(error instanceof RangeError, `${option}: ${value} → ${error}`);
            assert.match(error.message, new RegExp(option));
            return true;
          });
        }
        assert.throws(() => make({ maxWorkers: 2, minWorkers: 3 }), RangeError, /minWorkers/);
        assert.throws(() => make({ maxWorkers: Infinity, minWorkers: Infinity }), RangeError, /maxWorkers must be a finite integer/);
        assert.throws(() => make({ maxWorkers: 2 ** 31, minWorkers: Infinity }), RangeError, /minWorkers must be a finite integer/);
        // Infinity where it means "no limit" or "never"; delays of 2^31 ms and more are honoured
        // (Node's setTimeout would fire them at once: threadloop's timers re-arm, core/timers.ts).
        make({ maxWorkers: 1, maxQueue: Infinity, maxTasksPerWorker: Infinity, idleTimeoutMs: Infinity, abortGraceMs: Infinity });
        make({ maxWorkers: 1, idleTimeoutMs: 2 ** 40, abortGraceMs: 2 ** 31 });
        assert.throws(() => make({ maxWorkers: 2, workerz: 3 }), TypeError, /unknown option 'workerz'/);
        assert.throws(() => makeExecutor(null), TypeError);
        assert.throws(() => makeExecutor('fast'), TypeError);
      });

      test('minWorkers start at once and stay; idle workers above it exit after idleTimeoutMs', async () => {
        const ex = make({ maxWorkers: 3, minWorkers: 1, idleTimeoutMs: 50 });
        assert.equal(ex.stats().workers, 1, 'minWorkers are started with the executor');
        const gate = gates.make();
        const fs = [0, 1, 2].map((i) => ex.submit(t.gated, gate.arg, i));
        await gate.started(3);
        assert.equal(ex.stats().workers, 3);
        gate.open();
        await Promise.all(fs);
        await eventually(() => ex.stats().workers === 1, { what: 'idle workers to exit' });
        await delay(150);
        assert.equal(ex.stats().workers, 1, 'never below minWorkers');
        assert.equal(await ex.submit(t.add, 1, 1), 2);
      });

      test('name names the executor and its workers', async () => {
        const ex = make({ maxWorkers: 1, name: 'pool-of-tests' });
        assert.equal(ex.name, 'pool-of-tests');
        const error = await rejectsWith(ex.submit(t.exit, 7), WorkerCrashedError);
        assert.match(error.message, /pool-of-tests/);
        const other = make({ maxWorkers: 1 });
        assert.equal(typeof other.name, 'string');
        assert.notEqual(other.name, ex.name);
      });

      test('env sets the workers\' environment; by default they see process.env', async () => {
        process.env.THREADLOOP_TEST_INHERITED = 'inherited';
        try {
          const custom = make({ maxWorkers: 1, env: { THREADLOOP_TEST_VAR: 'custom value' } });
          assert.equal(await custom.submit(t.readEnv, 'THREADLOOP_TEST_VAR'), 'custom value');
          assert.equal(await custom.submit(t.readEnv, 'THREADLOOP_TEST_INHERITED'), null);
          const plain = make({ maxWorkers: 1 });
          assert.equal(await plain.submit(t.readEnv, 'THREADLOOP_TEST_INHERITED'), 'inherited');
          assert.equal(await plain.submit(t.readEnv, 'THREADLOOP_TEST_VAR'), null);
        } finally {
          delete process.env.THREADLOOP_TEST_INHERITED;
        }
      });

      test('execArgv passes Node.js flags to the workers', async () => {
        const ex = make({ maxWorkers: 1, execArgv: ['--no-deprecation'] });
        assert.ok((await ex.submit(t.execArgv)).includes('--no-deprecation'));
      });

      test('initializer + initArgs run once per worker, before its tasks', async () => {
        const ex = make({ maxWorkers: 2, initializer: init.init, initArgs: ['ready'] });
        const gate = gates.make();
        const held = [ex.submit(t.gated, gate.arg, 0), ex.submit(t.gated, gate.arg, 1)];
        await gate.started(2);
        gate.open();
        await Promise.all(held);
        const states = await Promise.all(Array.from({ length: 20 }, () => ex.submit(init.getState)));
        for (const state of states) assert.deepEqual(state, ['ready', 1]);
        const asyncInit = make({ maxWorkers: 1, initializer: init.asyncInit, initArgs: [{ n: 1 }] });
        assert.deepEqual(await asyncInit.submit(init.getState), [{ n: 1 }, 1]);
        const inline = make({ maxWorkers: 1, initializer: (v) => { globalThis.__threadloopInit = v; }, initArgs: [7] });
        assert.equal(await inline.submit(() => globalThis.__threadloopInit), 7);
      });

      test('a failing initializer breaks the executor: BrokenExecutorError with the cause', async () => {
        const ex = make({ maxWorkers: 2, initializer: init.failingInit, initArgs: ['cannot start'] });
        const fs = [ex.submit(t.add, 1, 1), ex.submit(t.add, 2, 2), ex.submit(t.add, 3, 3)];
        for (const f of fs) {
          const error = await rejectsWith(f, BrokenExecutorError);
          assert.ok(error.cause instanceof Error, 'the cause is the initializer\'s error');
          assert.equal(error.cause.message, 'cannot start');
          assert.equal(error.cause.code, 'E_INIT');
        }
        assert.throws(() => ex.submit(t.add, 1, 1), BrokenExecutorError);
        await rejectsWith(ex.submitAsync(t.add, 1, 1), BrokenExecutorError);
        await ex.shutdown();
      });
    });

    // ── crashes ────────────────────────────────────────────────────────────────────────────

    describe('worker crashes', () => {
      test('process.exit(3) in a task fails it with WorkerCrashedError; queued work completes', async () => {
        const ex = make({ maxWorkers: 1 });
        const crash = ex.submit(t.exit, 3);
        const others = [1, 2, 3, 4, 5].map((i) => ex.submit(t.add, i, i));
        const error = await rejectsWith(crash, WorkerCrashedError, /exit/);
        assert.equal(error.exitCode, 3);
        assert.equal(error.code, 'ERR_WORKER_CRASHED');
        assert.deepEqual(await Promise.all(others), [2, 4, 6, 8, 10]);
        assert.equal(await ex.submit(t.add, 20, 1), 21, 'the executor keeps serving');
        assert.equal(ex.stats().failed, 1);
      });

      test('a task module that ends the worker at import fails its calls with WorkerCrashedError, not a respawn loop', { timeout: 60_000 }, async () => {
        // In a thread pool a call starts once its module has loaded, so a worker that exited at
        // import had "not started" it: it went back to the queue, to a new worker, for ever — the
        // future never settled and the pool respawned workers without end.
        const ex = make({ maxWorkers: 1 });
        const exits = taskModule(fixtureUrl('exit-at-import.js'));
        const doomed = ex.submit(exits.answer);
        const behind = ex.submit(t.add, 1, 2); // sent with it, so lost with each worker, but not to blame
        const error = await rejectsWith(doomed, WorkerCrashedError, /code 11/);
        assert.equal(error.exitCode, 11);
        assert.equal(await behind, 3);
        await rejectsWith(ex.submit(exits.answer), WorkerCrashedError);
        assert.equal(await ex.submit(t.add, 1, 1), 2, 'the executor keeps serving');
      });

      test('many calls of a task module that ends the worker at import all fail after three workers, not three each', { timeout: 60_000 }, async () => {
        // Each call was counted on its own: 20 calls took 60 workers (40 took 25 s), a map of
        // thousands ran a respawn loop for an hour before its futures all settled.
        const dir = mkdtempSync(join(tmpdir(), 'threadloop-imports-'));
        const saved = process.env.THREADLOOP_TEST_IMPORTS;
        process.env.THREADLOOP_TEST_IMPORTS = dir; // workers take the environment as it is when they start
        try {
          const ex = make({ maxWorkers: 1 });
          const exits = taskModule(fixtureUrl('exit-at-import-counted.js'));
          const doomed = Array.from({ length: 20 }, () => ex.submit(exits.answer));
          const behind = ex.submit(t.add, 1, 2);
          for (const future of doomed) await rejectsWith(future, WorkerCrashedError, /code 11/);
          assert.equal(await behind, 3);
          // A child process has no start cells: a call sent to one counts as started and fails
          // with it, so each call takes one process at most.
          const bound = sharedMemory ? 3 : doomed.length;
          const imports = readdirSync(dir).length;
          assert.ok(imports <= bound, `the module was imported by ${imports} workers`);
          await ex.shutdown();
        } finally {
          if (saved === undefined) delete process.env.THREADLOOP_TEST_IMPORTS;
          else process.env.THREADLOOP_TEST_IMPORTS = saved;
          rmSync(dir, { recursive: true, force: true });
        }
      });

      test('an uncaught asynchronous error crashes only the futures of that worker', async () => {
        const ex = make({ maxWorkers: 2 });
        const gate = gates.make();
        const elsewhere = ex.submit(t.gated, gate.arg, 'unhurt');
        await gate.started();
        const error = await rejectsWith(ex.submit(t.throwLater, 'async kaboom'), WorkerCrashedError);
        assert.match(`${error.message} ${error.cause?.message}`, /async kaboom/);
        assert.equal(elsewhere.done(), false);
        gate.open();
        assert.equal(await elsewhere, 'unhurt');
        assert.equal(await ex.submit(t.add, 1, 1), 2);
      });
    });

    // ── issue 3: lifecycle ─────────────────────────────────────────────────────────────────

    describe('abort, timeouts', () => {
      test('an already-aborted signal rejects with AbortError (reason in cause), and nothing is enqueued', async () => {
        const ex = make({ maxWorkers: 1 });
        const reason = new Error('no longer needed');
        const f = ex.submit(t.add.with({ signal: AbortSignal.abort(reason) }), 1, 2);
        const error = await rejectsWith(f, AbortError);
        assert.equal(error.cause, reason);
        const s = ex.stats();
        assert.equal(s.workers, 0, 'no worker was started for it');
        assert.equal(s.queued + s.running, 0);
      });

      test('aborting a queued task removes it at once', async () => {
        const ex = make({ maxWorkers: 1 });
        const gate = gates.make();
        const running = ex.submit(t.gated, gate.arg, 'r');
        await gate.started();
        const controller = new AbortController();
        const queued = ex.submit(t.add.with({ signal: controller.signal }), 1, 2);
        assert.equal(ex.stats().queued, 1);
        controller.abort('changed my mind');
        assert.equal(queued.done(), true, 'settled synchronously');
        assert.equal(ex.stats().queued, 0);
        const error = await rejectsWith(queued, AbortError);
        assert.equal(error.cause, 'changed my mind');
        assert.equal(running.done(), false);
        gate.open();
        assert.equal(await running, 'r');
      });

      test('aborting a running task fires currentTask().signal; a cooperative task ends early', async () => {
        const ex = make({ maxWorkers: 1, abortGraceMs: 10_000 });
        const before = await ex.submit(t.workerIdentity);
        const gate = gates.make();
        const controller = new AbortController();
        const f = ex.submit(t.cooperative.with({ signal: controller.signal }), gate.arg);
        await gate.started();
        const started = performance.now();
        controller.abort(new Error('stop please'));
        const error = await rejectsWith(f, AbortError);
        assert.equal(error.cause?.message, 'stop please');
        assert.ok(performance.now() - started < 5000, 'settled by the task returning, not by the grace period');
        assert.equal(await ex.submit(t.workerIdentity), before, 'the worker was not terminated');
      });

      test('a task that ignores its signal is stopped: the worker is terminated after abortGraceMs', async () => {
        const ex = make({ maxWorkers: 1, abortGraceMs: 100 });
        const before = await ex.submit(t.workerIdentity);
        const gate = gates.make();
        const controller = new AbortController();
        const f = ex.submit(t.spin.with({ signal: controller.signal }), gate.arg);
        await gate.started();
        controller.abort();
        await rejectsWith(f, AbortError);
        assert.notEqual(await ex.submit(t.workerIdentity), before, 'a new worker replaced the stuck one');
        assert.equal(await ex.submit(t.add, 2, 2), 4);
        assert.equal(ex.stats().failed, 1);
      });

      test('an abort never hurts other tasks', async () => {
        const ex = make({ maxWorkers: 2, abortGraceMs: 50 });
        const spinGate = gates.make();
        const gate = gates.make();
        const controller = new AbortController();
        const stuck = ex.submit(t.spin.with({ signal: controller.signal }), spinGate.arg);
        await spinGate.started();
        const held = ex.submit(t.gated, gate.arg, 'held');
        await gate.started();
        const others = Array.from({ length: 20 }, (_, i) => ex.submit(t.add, i, 1));
        const unsignalled = ex.submit(t.signalState);
        controller.abort();
        await rejectsWith(stuck, AbortError);
        gate.open();
        assert.equal(await held, 'held');
        assert.deepEqual(await Promise.all(others), Array.from({ length: 20 }, (_, i) => i + 1));
        assert.equal(await unsignalled, false, 'no other task saw an abort');
      });

      test('timeoutMs rejects with TimeoutError, cooperatively or by termination', async () => {
        const ex = make({ maxWorkers: 1, abortGraceMs: 50 });
        const gate = gates.make();
        const polite = ex.submit(t.cooperative.with({ timeoutMs: 50 }), gate.arg);
        await rejectsWith(polite, TimeoutError, /50 ms/);
        const stubborn = ex.submit(t.spin.with({ timeoutMs: 50 }));
        await rejectsWith(stubborn, TimeoutError);
        assert.equal(await ex.submit(t.add, 1, 2), 3);
      });

      test('timeoutMs counts from the start: a task queued behind a long one does not time out', async () => {
        const ex = make({ maxWorkers: 1 });
        const gate = gates.make();
        const long = ex.submit(t.gated, gate.arg, 'long');
        await gate.started();
        // 1 s: once it starts, its answer must come within it, on a loaded machine too.
        const patient = ex.submit(t.add.with({ timeoutMs: 1000 }), 20, 22);
        await delay(1200); // longer than its timeout, all of it spent in the queue
        assert.equal(patient.done(), false);
        gate.open();
        assert.equal(await long, 'long');
        assert.equal(await patient, 42);
      });
    });

    describe('backpressure', () => {
      test('maxQueue: submit beyond it throws QueueFullError synchronously, enqueueing nothing', async () => {
        const ex = make({ maxWorkers: 1, maxQueue: 2 });
        const gate = gates.make();
        const running = ex.submit(t.gated, gate.arg, 'r');
        await gate.started();
        const abortable = t.add.with({ timeoutMs: 60_000 });
        const queued = [ex.submit(abortable, 1, 1), ex.submit(abortable, 2, 2)];
        assert.equal(ex.stats().queued, 2);
        assert.throws(() => ex.submit(abortable, 3, 3), QueueFullError);
        assert.equal(ex.stats().queued, 2);
        gate.open();
        assert.equal(await running, 'r');
        assert.deepEqual(await Promise.all(queued), [2, 4]);
      });

      test('maxQueue bounds every task waiting for a worker, not only abortable ones', async () => {
        // With one busy worker and maxQueue 2, a third waiting task is one too many — wherever
        // the executor keeps it (its queue, or the busy worker's inbox).
        const ex = make({ maxWorkers: 1, maxQueue: 2 });
        const gate = gates.make();
        const running = ex.submit(t.gated, gate.arg, 'r');
        await gate.started();
        const waiting = [ex.submit(t.add, 1, 1), ex.submit(t.add, 2, 2)];
        assert.throws(() => ex.submit(t.add, 3, 3), QueueFullError);
        gate.open();
        assert.equal(await running, 'r');
        assert.deepEqual(await Promise.all(waiting), [2, 4]);
      });

      test('submitAsync waits for room and resolves to { future }', async () => {
        const ex = make({ maxWorkers: 1, maxQueue: 1 });
        const gate = gates.make();
        const running = ex.submit(t.gated, gate.arg, 'r');
        await gate.started();
        const abortable = t.add.with({ timeoutMs: 60_000 });
        const first = ex.submit(abortable, 1, 1);
        const submitting = ex.submitAsync(abortable, 5, 5);
        assert.equal(await isPending(submitting), true, 'waits while the queue is full');
        gate.open();
        const submitted = await submitting;
        assert.deepEqual(Object.keys(submitted), ['future']);
        assert.ok(submitted.future instanceof Future);
        assert.equal(await submitted.future, 10);
        assert.equal(await first, 2);
        assert.equal(await running, 'r');
        const direct = await ex.submitAsync(t.add, 1, 2);
        assert.equal(await direct.future, 3, 'with room it queues at once');
      });

      test('submitAsync honours the task\'s signal while waiting for room', async () => {
        const ex = make({ maxWorkers: 1, maxQueue: 1 });
        const gate = gates.make();
        ex.submit(t.gated, gate.arg, 'r');
        await gate.started();
        ex.submit(t.add.with({ timeoutMs: 60_000 }), 1, 1);
        const controller = new AbortController();
        const submitting = ex.submitAsync(t.add.with({ signal: controller.signal }), 2, 2);
        assert.equal(await isPending(submitting), true);
        controller.abort(new Error('gave up'));
        const error = await rejectsWith(submitting, AbortError);
        assert.equal(error.cause?.message, 'gave up');
        assert.equal(ex.stats().queued, 1, 'nothing was added to the queue');
      });

      test('map never overfills the queue', async () => {
        const ex = make({ maxWorkers: 1, maxQueue: 2 });
        const gate = gates.make();
        const items = [{ gate: gate.arg, value: 0 }, ...Array.from({ length: 30 }, (_, i) => i + 1)];
        const task = t.gatedItem.with({ timeoutMs: 60_000 }); // abortable: runs alone, others queue
        const it = ex.map(task, items);
        const first = it.next();
        await gate.started();
        await new Promise((resolve) => setImmediate(resolve));
        assert.ok(ex.stats().queued <= 2, `queued ${ex.stats().queued} with maxQueue 2`);
        gate.open();
        const results = [(await first).value];
        for await (const value of it) {
          assert.ok(ex.stats().queued <= 2);
          results.push(value);
        }
        assert.deepEqual(results, Array.from({ length: 31 }, (_, i) => i));
      });

      test('drained() resolves when nothing waits in the queue; idle() when nothing runs', async () => {
        const ex = make({ maxWorkers: 1 });
        await ex.drained();
        await ex.idle();
        const gate = gates.make();
        const running = ex.submit(t.gated, gate.arg, 'r');
        await gate.started();
        const queued = [ex.submit(t.add.with({ timeoutMs: 60_000 }), 1, 1), ex.submit(t.add.with({ timeoutMs: 60_000 }), 2, 2)];
        const drained = ex.drained();
        const idle = ex.idle();
        assert.equal(await isPending(drained), true);
        assert.equal(await isPending(idle), true);
        gate.open();
        await drained;
        assert.equal(ex.stats().queued, 0);
        await idle;
        assert.equal(running.done() && queued.every((f) => f.done()), true);
        const s = ex.stats();
        assert.equal(s.running + s.queued + s.busy, 0);
      });

      test('maxTasksPerWorker recycles workers', async () => {
        const ex = make({ maxWorkers: 1, maxTasksPerWorker: 2 });
        const ids = [];
        for (let i = 0; i < 6; i++) ids.push(await ex.submit(t.workerIdentity));
        assert.equal(new Set(ids).size, 3, `identities: ${ids.join(', ')}`);
        assert.equal(ids[0], ids[1]);
        assert.notEqual(ids[1], ids[2]);
        const burst = await Promise.all(Array.from({ length: 10 }, () => ex.submit(t.workerIdentity)));
        assert.ok(new Set(burst).size >= 5, 'each worker ran at most 2 tasks of the burst too');
      });
    });

    // ── settle exactly once, under load and under faults ──────────────────────────────────

    describe('exactly once', () => {
      test('load: 20,000 mixed tasks, a few crashing, every future settles exactly once', { timeout: 60_000 }, async () => {
        const ex = make({ maxWorkers: 2 });
        const total = Math.round(20_000 * scale);
        const crashAt = new Set([1000, 7000, 13_000, 19_000].map((i) => Math.round(i * scale)));
        const settled = new Uint8Array(total);
        const futures = [];
        for (let i = 0; i < total; i++) {
          let f;
          if (crashAt.has(i)) f = ex.submit(t.exit, 1);
          else if (i % 10 === 3) f = ex.submit(t.throwValue, i);
          else if (i % 10 === 7) f = ex.submit(t.asyncEcho, i);
          else f = ex.submit(t.add, i, 1);
          f.addDoneCallback(() => settled[i]++);
          futures.push(f);
        }
        const outcomes = await Promise.allSettled(futures);
        let collateral = 0;
        let rejected = 0;
        for (let i = 0; i < total; i++) {
          assert.equal(settled[i], 1, `future ${i} settled ${settled[i]} times`);
          const o = outcomes[i];
          if (o.status === 'rejected') rejected++;
          if (crashAt.has(i)) {
            assert.ok(o.status === 'rejected' && o.reason instanceof WorkerCrashedError, `task ${i}`);
          } else if (o.status === 'rejected' && o.reason instanceof WorkerCrashedError) {
            // Tasks the dying worker was running (async ones in flight, or finished ones whose
            // results had not been sent yet) fail with it; nothing else may.
            collateral++;
          } else if (i % 10 === 3) {
            assert.equal(o.reason, i, `task ${i}`);
          } else if (i % 10 === 7) {
            assert.equal(o.value, i, `task ${i}`);
          } else {
            assert.equal(o.value, i + 1, `task ${i}`);
          }
        }
        assert.ok(collateral < total / 20, `${collateral} tasks crashed along with the ${crashAt.size} that exited`);
        const s = ex.stats();
        assert.equal(s.completed + s.failed + s.cancelled, total);
        assert.equal(s.failed, rejected);
      });

      test('fault injection: aborts, timeouts, exits and throws mixed in; all settle exactly once with the right error', { timeout: 60_000 }, async () => {
        const ex = make({ maxWorkers: 2, minWorkers: 1, idleTimeoutMs: 50, abortGraceMs: 20 });
        const random = prng(0x5eed);
        const total = Math.round(20_000 * scale);
        const settled = new Uint8Array(total);
        const expected = new Array(total);
        const futures = [];
        const pendingAborts = [];
        let exits = 0;
        for (let i = 0; i < total; i++) {
          const r = random();
          let f;
          if (r < 0.0005 && exits < 8) {
            exits++;
            f = ex.submit(t.exit, 9);
            expected[i] = ['crash'];
          } else if (r < 0.1) {
            f = ex.submit(t.throwValue, new RangeError(`e${i}`));
            expected[i] = ['error', RangeError];
          } else if (r < 0.12) {
            // aborted at a random moment: before it starts, while it runs, or after it finished
            const controller = new AbortController();
            f = ex.submit(t.sleepUnlessAborted.with({ signal: controller.signal }), 5, i);
            pendingAborts.push([controller, Math.floor(random() * 10)]);
            expected[i] = ['value-or', i, AbortError];
          } else if (r < 0.125) {
            f = ex.submit(t.sleepUnlessAborted.with({ timeoutMs: 5 }), 1000, i);
            expected[i] = ['error', TimeoutError];
          } else if (r < 0.126) {
            f = ex.submit(t.spin.with({ timeoutMs: 5 }));
            expected[i] = ['error', TimeoutError];
          } else {
            f = ex.submit(t.add, i, 1);
            expected[i] = ['value', i + 1];
          }
          f.addDoneCallback(() => settled[i]++);
          futures.push(f);
          if (i % 500 === 0) {
            // let the executor make progress, and fire the aborts that are due
            await new Promise((resolve) => setImmediate(resolve));
            for (const entry of pendingAborts) if (entry[1]-- <= 0) entry[0].abort(new Error('injected'));
          }
        }
        for (const [controller] of pendingAborts) controller.abort(new Error('injected'));
        const outcomes = await Promise.allSettled(futures);
        const counts = {};
        let collateral = 0;
        for (let i = 0; i < total; i++) {
          assert.equal(settled[i], 1, `future ${i} settled ${settled[i]} times`);
          const o = outcomes[i];
          const [what, a, b] = expected[i];
          const name = o.status === 'fulfilled' ? 'value' : o.reason?.constructor?.name;
          counts[name] = (counts[name] ?? 0) + 1;
          if (what !== 'crash' && o.status === 'rejected' && o.reason instanceof WorkerCrashedError) {
            // crashed along with a task that exited on the same worker
            assert.ok(what === 'value' || (what === 'error' && a === RangeError), `task ${i}: ${what} task crashed`);
            collateral++;
          } else if (what === 'value') assert.equal(o.value, a, `task ${i}`);
          else if (what === 'crash') assert.ok(o.reason instanceof WorkerCrashedError, `task ${i}: ${o.reason}`);
          else if (what === 'error') assert.ok(o.reason instanceof a, `task ${i}: expected ${a.name}, got ${o.reason}`);
          else if (o.status === 'fulfilled') assert.equal(o.value, a);
          else assert.ok(o.reason instanceof b, `task ${i}: expected ${b.name}, got ${o.reason}`);
        }
        assert.ok(counts.AbortError > 0, `some aborts landed: ${JSON.stringify(counts)}`);
        assert.ok(counts.TimeoutError > 0);
        assert.ok(counts.WorkerCrashedError > 0);
        assert.ok(collateral < total / 20, `${collateral} tasks crashed along with the exits`);
        await ex.idle();
        await eventually(() => ex.stats().workers === 1, { what: 'workers back to minWorkers' });
        assert.equal(await ex.submit(t.add, 1, 1), 2, 'still serving');
      });
    });
  });
}
