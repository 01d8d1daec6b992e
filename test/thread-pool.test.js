// ThreadPoolExecutor: the shared executor contract, then what only worker threads can do.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import {
  BrokenExecutorError,
  DeadlockError,
  Future,
  ThreadPoolExecutor,
  TimeoutError,
  WorkerCrashedError,
  getDefaultExecutor,
  runInExecutor,
  setDefaultExecutor,
  taskModule,
  toThread,
} from 'threadloop';
import { executorSuite } from './helpers/executor-suite.js';
import { fixtureUrl, gateFactory, keepAlive, rejectsWith } from './helpers/util.js';
import { blockedOn } from './helpers/runtime.js';

const t = taskModule(fixtureUrl('tasks.js'));
const run = promisify(execFile);
// On Deno 2.9 a pool worker over its resourceLimits is not ended: the task runs on and the test
// would hang (a raw Worker with the same limits is ended with ERR_WORKER_OUT_OF_MEMORY).
const oomHangs = { deno: 'a pool worker over its resourceLimits runs on instead of ending (not yet reported upstream; a raw Worker is ended)' };

// See keepAlive(): the liveness bug is tested on its own, in child processes, below.
let release;
before(() => {
  release = keepAlive();
});
after(() => release());

executorSuite('ThreadPoolExecutor', (options) => new ThreadPoolExecutor(options), {
  sharedMemory: true,
  kind: 'worker thread',
});

describe('ThreadPoolExecutor: thread-only behaviour', () => {
  const gates = gateFactory({ sharedMemory: true });
  const executors = [];
  const make = (options) => {
    const ex = new ThreadPoolExecutor(options);
    executors.push(ex);
    return ex;
  };
  afterEach(async () => {
    gates.openAll();
    await Promise.all(executors.splice(0).map((ex) => ex.shutdown({ cancelFutures: true })));
    gates.cleanup();
  });

  describe('resultSync() on the main thread', () => {
    test('returns the value, blocking until the worker answers', () => {
      const ex = make({ maxWorkers: 1 });
      assert.equal(ex.submit(t.add, 2, 3).resultSync(), 5);
      assert.equal(ex.submit(t.asyncEcho, 'async').resultSync({ timeoutMs: 10_000 }), 'async');
      const f = ex.submit(t.add, 1, 1);
      f.resultSync();
      assert.equal(f.resultSync(), 2, 'again on a done future');
    });

    test('throws the task\'s error', () => {
      const ex = make({ maxWorkers: 1 });
      assert.throws(() => ex.submit(t.throwTypeError).resultSync(), (error) => {
        assert.ok(error instanceof TypeError);
        assert.equal(error.code, 'E_BAD');
        return true;
      });
      assert.throws(() => ex.submit(t.throwValue, 42).resultSync(), (thrown) => thrown === 42);
    });

    test('throws TimeoutError after timeoutMs, and the task goes on', async () => {
      const ex = make({ maxWorkers: 1 });
      const gate = gates.make();
      const f = ex.submit(t.gated, gate.arg, 'later');
      const started = performance.now();
      assert.throws(() => f.resultSync({ timeoutMs: 50 }), TimeoutError);
      assert.ok(performance.now() - started >= 45, 'it blocked for about timeoutMs');
      assert.equal(f.cancelled(), false);
      gate.open();
      assert.equal(await f, 'later');
      assert.throws(() => ex.submit(t.add, 1, 1).resultSync({ timeoutMs: -1 }), RangeError);
    });

    test('throws DeadlockError at once on a future nothing else can settle', () => {
      const started = performance.now();
      assert.throws(() => new Future().resultSync(), DeadlockError);
      assert.throws(() => new Future().resultSync({ timeoutMs: 5000 }), DeadlockError);
      assert.ok(performance.now() - started < 1000, 'without blocking');
    });

    test('a cancelled future throws CancelledError', () => {
      const ex = make({ maxWorkers: 1 });
      const gate = gates.make();
      ex.submit(t.gated, gate.arg, 1);
      const f = ex.submit(t.add, 1, 1);
      f.cancel();
      assert.throws(() => f.resultSync(), { code: 'ERR_CANCELLED' });
    });
  });

  test('resourceLimits: a task overflowing the heap fails with WorkerCrashedError about memory; the next succeeds', { timeout: 30_000, ...blockedOn(oomHangs) }, async () => {
    const ex = make({ maxWorkers: 1, resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 } });
    const error = await rejectsWith(ex.submit(t.allocate, 512), WorkerCrashedError);
    assert.match(error.message, /memory/i);
    assert.equal(await ex.submit(t.add, 1, 1), 2);
  });

  test('resultSync on a task that runs its worker out of memory throws WorkerCrashedError, not its timeout', { timeout: 60_000, ...blockedOn(oomHangs) }, async () => {
    const ex = make({ maxWorkers: 1, resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 } });
    await ex.submit(t.add, 1, 1); // started
    // The dying worker runs no exit handler and its 'exit' event cannot reach this blocked thread.
    assert.throws(() => ex.submit(t.allocate, 512).resultSync({ timeoutMs: 30_000 }), (error) => {
      assert.ok(error instanceof WorkerCrashedError, `got ${error}`);
      assert.match(error.message, /memory/);
      return true;
    });
    assert.equal(await ex.submit(t.add, 1, 1), 2, 'a new worker took its place');
  });

  test('shutdown({ force: true }) keeps the result of a call that finished before it, not yet read', async () => {
    const ex = make({ maxWorkers: 1 });
    await ex.submit(t.add, 1, 1); // a started worker
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const finished = ex.submit(t.markAndReturn, cell, 'kept');
    await null; // the call goes out (sent in a microtask); from here on this thread does not yield
    // to its event loop: the result, once sent, waits in the channel.
    while (Atomics.load(cell, 0) === 0) Atomics.wait(cell, 0, 0, 1);
    const until = performance.now() + 100; // time for the worker to post it (a result waits at most 200 µs)
    while (performance.now() < until);
    const done = ex.shutdown({ force: true });
    assert.equal(finished.state, 'finished'); // it had been cancelled 'by a forced shutdown'
    assert.equal(await finished, 'kept');
    await done;
  });

  test('a worker that dies of a stray throw while running no task is reported as a warning; another takes its place', async () => {
    const ex = make({ maxWorkers: 1 });
    const keep = setInterval(() => {}, 60_000); // an idle pool holds nothing open: this waits for its warning
    const warned = new Promise((resolve) => {
      const onWarning = (warning) => {
        if (warning.code !== 'THREADLOOP_WORKER_DIED') return;
        process.off('warning', onWarning);
        resolve(warning);
      };
      process.on('warning', onWarning);
    });
    // It returns, then its timer throws: no future fails with the error, which had been lost.
    assert.equal(await ex.submit(() => { setTimeout(() => { throw new Error('late boom'); }, 5); return 'returned'; }), 'returned');
    const warning = await warned.finally(() => clearInterval(keep));
    assert.match(warning.message, /running no task, died: late boom/);
    assert.equal(await ex.submit(t.add, 1, 2), 3);
  });

  test('thread-only options are validated', () => {
    assert.throws(() => make({ resourceLimits: 'small' }), TypeError, /resourceLimits/);
    assert.throws(() => make({ resourceLimits: { maxOldGenerationSizeMb: 'lots' } }), TypeError, /maxOldGenerationSizeMb/);
    // An infinite stack size makes every worker die at start.
    assert.throws(() => make({ resourceLimits: { stackSizeMb: Infinity } }), RangeError, /stackSizeMb/);
    assert.throws(() => make({ workerEntry: 42 }), TypeError, /workerEntry/);
    assert.throws(() => make({ idleSpinMs: '1' }), TypeError, /idleSpinMs/);
    assert.throws(() => make({ idleSpinMs: -1 }), RangeError, /idleSpinMs/);
    assert.throws(() => make({ idleSpinMs: 5 }), RangeError, /idleSpinMs/);
  });

  test('idleSpinMs: 0 and 1 both run back-to-back calls and keep async tasks working', async () => {
    for (const idleSpinMs of [0, 1]) {
      const ex = make({ maxWorkers: 2, idleSpinMs });
      for (let i = 0; i < 200; i++) assert.equal(await ex.submit(t.add, i, 1), i + 1);
      assert.equal(await ex.submit(t.asyncEcho, 'async'), 'async');
      assert.equal(ex.submit(t.add, 2, 2).resultSync({ timeoutMs: 10_000 }), 4);
    }
  });

  test('a worker thread sees a SharedArrayBuffer argument live', async () => {
    const ex = make({ maxWorkers: 1 });
    const shared = new Int32Array(new SharedArrayBuffer(4));
    await ex.submit((buffer) => Atomics.store(new Int32Array(buffer), 0, 99), shared.buffer);
    assert.equal(shared[0], 99);
  });

  describe('a busy pool keeps the process alive until its futures settle', () => {
    // Each case runs in its own process with nothing else keeping the event loop alive: the
    // process must not exit (code 13: unsettled top-level await) while a future is pending.
    const script = fileURLToPath(fixtureUrl('liveness.js'));
    for (const mode of ['exit', 'async-throw', 'abort', 'ok']) {
      test(mode, async () => {
        const { stdout } = await run(process.execPath, [script, mode], { timeout: 20_000 }).catch((error) => {
          assert.fail(`child exited with code ${error.code}: ${error.stdout}${error.stderr}`);
        });
        assert.equal(stdout.match(/^settled: /gm)?.length, mode === 'ok' ? 1 : 5, stdout);
      });
    }
  });
});

describe('toThread, runInExecutor and the default executor', () => {
  after(async () => {
    await getDefaultExecutor().shutdown();
  });

  test('toThread runs a task on the default ThreadPoolExecutor', async () => {
    assert.equal(await toThread(t.add, 40, 2), 42);
    assert.equal(await toThread((s) => s.length, 'four'), 4);
    const ex = getDefaultExecutor();
    assert.ok(ex instanceof ThreadPoolExecutor);
    assert.equal(getDefaultExecutor(), ex, 'one default executor');
    assert.ok(toThread(t.add, 1, 1) instanceof Future);
  });

  test('runInExecutor(pool, …) uses the pool; runInExecutor(null, …) the default one', async () => {
    const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    try {
      assert.equal(await runInExecutor(pool, t.add, 1, 2), 3);
      assert.equal(pool.stats().completed, 1);
      const before = getDefaultExecutor().stats().completed;
      assert.equal(await runInExecutor(null, t.add, 2, 2), 4);
      assert.equal(await runInExecutor(undefined, t.add, 3, 3), 6);
      assert.equal(getDefaultExecutor().stats().completed, before + 2);
    } finally {
      await pool.shutdown();
    }
  });

  test('setDefaultExecutor replaces it, and rejects what is not an executor', async () => {
    const original = getDefaultExecutor();
    const mine = new ThreadPoolExecutor({ maxWorkers: 1 });
    try {
      setDefaultExecutor(mine);
      assert.equal(await toThread(t.add, 5, 5), 10);
      assert.equal(mine.stats().completed, 1);
    } finally {
      setDefaultExecutor(original);
      await mine.shutdown();
    }
    assert.throws(() => setDefaultExecutor(null), TypeError);
    assert.throws(() => setDefaultExecutor({}), TypeError);
    assert.equal(getDefaultExecutor(), original);
  });
});

describe('ThreadPoolExecutor: workers that cannot be made', () => {
  test('execArgv a worker thread refuses breaks the executor with the cause, instead of throwing from submit', async () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 1, execArgv: ['--v8-pool-size=4'] });
    const f = ex.submit(t.add, 1, 2);
    const error = await rejectsWith(f, BrokenExecutorError, /could not start/);
    assert.match(String(error.cause?.message), /execArgv/);
    assert.throws(() => ex.submit(t.add, 1, 2), BrokenExecutorError);
    await ex.shutdown();
  });

  test('a pool started from `node --input-type=module -e` works: workers drop the entry flags', async () => {
    const script = "import { toThread } from 'threadloop'; console.log(await toThread((a) => a * 2, 21));";
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)) });
    assert.equal(stdout.trim(), '42');
  });
});
