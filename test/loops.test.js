// Loop threads, runCoroutineThreadsafe, callSoonThreadsafe, mainLoop, currentLoop, resultSync
// and startThread (issue 4), on real worker threads.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { threadId } from 'node:worker_threads';
import {
  AbortError,
  DeadlockError,
  LoopClosedError,
  TaskSerializationError,
  ThreadPoolExecutor,
  QueueFullError,
  ThreadQueue,
  TimeoutError,
  WorkerCrashedError,
  currentLoop,
  mainLoop,
  runCoroutineThreadsafe,
  startLoopThread,
  startThread,
  taskModule,
} from 'threadloop';
import { blockedOn } from './helpers/runtime.js';
import { eventually } from './helpers/util.js';

const state = taskModule(new URL('./fixtures/loop-state.js', import.meta.url));
const { collectGarbage } = await import('./fixtures/loop-state.js'); // (on this thread too)

describe('loop threads', () => {
  let loop;
  before(async () => {
    loop = await startLoopThread({ name: 'test-loop' });
  });
  after(() => loop.stop());

  test('runs sync and async tasks on its own thread', async () => {
    const where = await runCoroutineThreadsafe(state.whereAmI, loop);
    assert.notEqual(where, threadId);
    assert.equal(await runCoroutineThreadsafe(state.later, loop, 20, 'late'), 'late');
    assert.equal(await loop.submit((a, b) => a + b, 2, 3), 5);
    assert.equal(loop.name, 'test-loop');
    assert.equal(loop.isRunning(), true);
  });

  test('keeps module state between calls', async () => {
    const first = await loop.submit(state.increment, 1);
    const second = await loop.submit(state.increment, 10);
    assert.equal(second, first + 10);
  });

  test('timers keep running between calls', async () => {
    await loop.submit(() => {
      globalThis.ticks = 0;
      globalThis.ticker = setInterval(() => globalThis.ticks++, 1);
    });
    // Wait on the loop thread itself until the ticker has ticked: no call was running meanwhile.
    const ticks = await loop.submit(() => new Promise((resolve) => {
      const check = () => (globalThis.ticks >= 3 ? resolve(globalThis.ticks) : setTimeout(check, 1));
      check();
    }));
    await loop.submit(() => clearInterval(globalThis.ticker));
    assert.ok(ticks >= 3);
  });

  test('callSoonThreadsafe runs in order, fire and forget', async () => {
    for (let i = 0; i < 100; i++) loop.callSoonThreadsafe(state.record, i);
    const log = await loop.submit(state.recorded);
    assert.deepEqual(log.slice(-100), Array.from({ length: 100 }, (_, i) => i));
  });

  test('a throwing callSoonThreadsafe callback is reported as an error event', async () => {
    const reported = new Promise((resolve) => loop.once('error', resolve));
    loop.callSoonThreadsafe(() => { throw new RangeError('callback failed'); });
    const error = await reported;
    assert.ok(error instanceof RangeError);
    assert.equal(error.message, 'callback failed');
  });

  test('a callSoonThreadsafe callback may return what cannot cross (a timer, a function): nobody reads it, nothing is reported', async () => {
    const reported = [];
    const report = (error) => reported.push(error);
    loop.on('error', report);
    try {
      loop.callSoonThreadsafe(() => setTimeout(() => {}, 1));
      loop.callSoonThreadsafe(() => () => 'a function');
      loop.callSoonThreadsafe(state.record, 'ran'); // (calls from one thread run in order)
      assert.equal((await loop.submit(state.recorded)).at(-1), 'ran');
      await new Promise((resolve) => setImmediate(resolve)); // (a report would be on its way by now)
      assert.deepEqual(reported, []);
    } finally {
      loop.off('error', report);
    }
  });

  test('errors cross with class, properties and cause', async () => {
    const f = loop.submit(() => {
      throw Object.assign(new TypeError('bad', { cause: new Error('root') }), { code: 'E_BAD' });
    });
    await assert.rejects(f, (e) => e instanceof TypeError && e.code === 'E_BAD' && e.cause.message === 'root');
  });

  test('resultSync blocks the main thread until the loop answers, and times out', () => {
    const value = runCoroutineThreadsafe(state.later, loop, 10, 'sync').resultSync({ timeoutMs: 5000 });
    assert.equal(value, 'sync');
    const slow = runCoroutineThreadsafe(state.later, loop, 500, 'slow');
    assert.throws(() => slow.resultSync({ timeoutMs: 20 }), TimeoutError);
    assert.equal(slow.done(), false); // the wait gave up; the call goes on
  });

  test('an abort reaches the task signal on the loop thread before the future settles', async () => {
    const ac = new AbortController();
    const cell = new Int32Array(new SharedArrayBuffer(8));
    const f = loop.submit(state.waitForAbort.with({ signal: ac.signal }), cell);
    while (Atomics.load(cell, 1) === 0) await Atomics.waitAsync(cell, 1, 0).value; // it started
    ac.abort(new Error('stop it'));
    await assert.rejects(f, (e) => e instanceof AbortError && e.cause.message === 'stop it');
    assert.equal(Atomics.load(cell, 0), 1);
  });

  test('a task that aborts itself rejects the caller with AbortError', async () => {
    const f = loop.submit(() => {
      throw new DOMException('gave up', 'AbortError');
    });
    await assert.rejects(f, (e) => e instanceof AbortError && e.message === 'gave up');
  });

  test('a handle sent to 10 threads at once: every call answered right', async () => {
    const pool = new ThreadPoolExecutor({ maxWorkers: 4 });
    try {
      await loop.submit(() => { globalThis.calls = 0; });
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => pool.submit(async (loop, i) => {
        const out = [];
        for (let k = 0; k < 20; k++) out.push(await loop.submit((i, k) => { globalThis.calls++; return i * 100 + k; }, i, k));
        return out;
      }, loop, i)));
      results.forEach((out, i) => assert.deepEqual(out, Array.from({ length: 20 }, (_, k) => i * 100 + k)));
      assert.equal(await loop.submit(() => globalThis.calls), 200);
    } finally {
      await pool.shutdown();
    }
  });

  test('a handle received from another thread is sent on: the third thread calls the loop directly', async () => {
    const other = await startLoopThread({ name: 'other' });
    const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    try {
      // main -> pool worker (gets both handles) -> 'other' (gets this loop's handle, sent on) -> this loop.
      const forwarded = pool.submit((loop, other) => other.submit((loop) => loop.submit((x) => x * 2, 21), loop), loop, other);
      assert.equal(await forwarded, 42);
      // mainLoop() and currentLoop() are not sent: each thread calls them itself.
      assert.throws(() => loop.submit((l) => l, currentLoop()), (e) => e instanceof TaskSerializationError && /mainLoop\(\) and currentLoop\(\) are reached by calling them/.test(e.message));
    } finally {
      await pool.shutdown();
      await other.stop();
    }
  });

  test('a thread keeps one handle of a loop however many calls bring it: openHandles is one per thread, none once it ends', async () => {
    const own = await startLoopThread({ name: 'handed-out' });
    const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    try {
      for (let i = 0; i < 100; i++) assert.equal(await pool.submit((loop, i) => loop.submit((i) => i + 1, i), own, i), i + 1);
      await pool.submit(state.keep, own);
      // (The loop's thread hears of each port closing a little after it is closed.)
      await eventually(() => own.openHandles === 1, { what: `one open handle, not ${own.openHandles}` });
      assert.equal(await pool.submit(state.callKept, 'still served'), 'still served');
      assert.equal(await pool.submit(state.sameAsKept, own), true, 'the handle a call brings is the one the thread holds');
    } finally {
      await pool.shutdown();
    }
    await eventually(() => own.openHandles === 0, { what: `no open handle once the worker ended, not ${own.openHandles}` });
    await own.stop();
  });

  test("a handle keeps its loop's abortGraceMs in any thread: a call that ignores its abort settles after the loop's grace", async () => {
    const own = await startLoopThread({ name: 'graceful', abortGraceMs: 50 });
    const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    try {
      // The call runs 3 s, ignoring its abort: 50 ms after its timeout (20 ms) it settles, where
      // the default grace (1,000 ms) would outlast the 500 ms this test gives it.
      assert.equal(await pool.submit(state.lateThroughHandle, own, 3000, 20).result({ timeoutMs: 500 }), 'TimeoutError');
    } finally {
      await pool.shutdown();
      await own.stop();
    }
  });

  test('handles of calls that never run are closed: cancelled while queued or sent ahead, refused by a full queue, aborted first', async () => {
    const own = await startLoopThread({ name: 'never-run' });
    const ahead = new ThreadPoolExecutor({ maxWorkers: 1 }); // sends calls ahead to its busy worker
    const bounded = new ThreadPoolExecutor({ maxWorkers: 1, maxQueue: 1 }); // keeps them here
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const busy = [ahead.submit(state.blockUntil, cell), bounded.submit(state.blockUntil, cell)];
    const release = () => {
      Atomics.store(cell, 0, 1);
      Atomics.notify(cell, 0);
    };
    try {
      // (In a function of its own: the futures, which hold their calls' arguments, are dropped after.)
      await (async () => {
        await assert.rejects(async () => ahead.submit(state.increment.with({ signal: AbortSignal.abort() }), own), AbortError);
        const futures = Array.from({ length: 8 }, () => ahead.submit((loop) => loop.name, own));
        futures.push(bounded.submit((loop) => loop.name, own));
        assert.throws(() => bounded.submit((loop) => loop.name, own), QueueFullError);
        await eventually(() => ahead.stats().queued === 0, { what: 'the calls to be sent ahead to the busy worker' });
        // (The loop's thread counts a port as it hears of it; those of the 9 held here stay open.)
        await eventually(() => own.openHandles >= 9, { what: 'the loop thread to serve a port for each handle made' });
        assert.deepEqual(futures.map((f) => f.cancel()), futures.map(() => true), 'none started');
      })();
      release();
      assert.deepEqual(await Promise.all(busy), ['released', 'released']);
      // The main thread's garbage (handles never sent) and the worker's (those it was sent ahead).
      for (let round = 0; own.openHandles > 0; round++) {
        if (round === 200) assert.fail(`openHandles is ${own.openHandles}`);
        await Promise.all([collectGarbage(), ahead.submit(state.collectGarbage)]);
      }
    } finally {
      release();
      await Promise.all([ahead.shutdown(), bounded.shutdown()]);
      await own.stop();
    }
  });

  test("a cancelled future its caller keeps does not keep its call's arguments: a loop handle among them closes", blockedOn({ deno: 'the cancelled call is kept alive there by its CancelledError' }), async () => {
    const own = await startLoopThread({ name: 'kept-cancelled' });
    const pool = new ThreadPoolExecutor({ maxWorkers: 1, maxQueue: 1 }); // (keeps the call here: none sent ahead)
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const busy = pool.submit(state.blockUntil, cell);
    try {
      const kept = pool.submit((loop) => loop.name, own);
      await eventually(() => own.openHandles === 1, { what: 'the loop thread to serve the handle made' });
      assert.equal(kept.cancel(), true);
      Atomics.store(cell, 0, 1);
      Atomics.notify(cell, 0);
      assert.equal(await busy, 'released');
      for (let round = 0; own.openHandles > 0; round++) {
        if (round === 200) assert.fail(`openHandles is ${own.openHandles}`);
        await collectGarbage();
      }
      assert.ok(kept.cancelled(), 'the future is still here');
    } finally {
      Atomics.store(cell, 0, 1);
      Atomics.notify(cell, 0);
      await pool.shutdown();
      await own.stop();
    }
  });

  test('a result may hold a loop handle (it comes back usable); one holding a shared object and a function fails, never hangs', async () => {
    const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    const queue = new ThreadQueue();
    try {
      const back = await pool.submit((loop) => ({ loop }), loop);
      assert.equal(await back.loop.submit(() => 'through the handle that came back'), 'through the handle that came back');
      await assert.rejects(pool.submit((queue) => ({ queue, f: () => 1 }), queue), TaskSerializationError);
    } finally {
      await pool.shutdown();
    }
  });

  test("a handle with listeners of its own ('error', 'exit') is sent all the same", async () => {
    const listened = await startLoopThread();
    listened.on('error', () => {});
    const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    try {
      // Its EventEmitter state holds functions; what crosses is its shared state only.
      assert.equal(await pool.submit(({ loop }) => loop.submit(() => 'through the handle'), { loop: listened }), 'through the handle');
    } finally {
      await pool.shutdown();
      await listened.stop();
    }
  });
});

describe('calls through a loop handle sent to another thread settle when the loop ends', () => {
  for (const [how, end] of [['stopped', (loop) => loop.stop()], ['crashed', (loop) => loop.submit(() => process.exit(3)).catch(() => {})]]) {
    for (const blocking of [false, true]) {
      test(`loop ${how}, the worker ${blocking ? 'blocked in resultSync' : 'awaiting'}: LoopClosedError; a later call through the handle too`, async () => {
        const loop = await startLoopThread({ stopGraceMs: 50 });
        const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
        try {
          const cell = new Int32Array(new SharedArrayBuffer(4));
          const waiting = pool.submit(state.waitOnLoop, loop, cell, blocking);
          while (Atomics.load(cell, 0) === 0) await Atomics.waitAsync(cell, 0, 0).value; // the worker's call runs on the loop
          await end(loop);
          assert.match(await waiting, /^LoopClosedError: loop/);
          assert.equal(await pool.submit(state.callKeptLoop), 'LoopClosedError');
        } finally {
          await pool.shutdown({ force: true });
          await loop.stop();
        }
      });
    }
  }
});

test('a loop handle that reaches a worker once its loop has stopped: a call through it fails, never hangs', async () => {
  const loop = await startLoopThread({ stopGraceMs: 50 });
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  try {
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const blocked = pool.submit(state.blockUntil, gate);
    const late = pool.submit(state.callThrough, loop); // its handle waits behind the blocked call
    await loop.stop();
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    assert.equal(await blocked, 'released');
    // Its port came after its peer had closed: no 'close' event for it, and it had waited for ever.
    assert.equal(await late, 'LoopClosedError');
  } finally {
    await pool.shutdown({ force: true });
  }
});

describe('a loop thread that dies while this thread blocks in resultSync', () => {
  const tasks = taskModule(new URL('./fixtures/tasks.js', import.meta.url));

  test('by process.exit: the call throws WorkerCrashedError with the exit code', async () => {
    const loop = await startLoopThread();
    assert.throws(() => loop.submit(tasks.exit, 7).resultSync({ timeoutMs: 30_000 }), (error) => error instanceof WorkerCrashedError && error.exitCode === 7);
    await loop.stop();
  });

  // On Deno 2.9 a loop thread over its resourceLimits runs on (as a pool worker does, see
  // thread-pool.test.js): the call would only time out, after 30 s.
  test('out of memory: the call throws WorkerCrashedError, not its timeout', { timeout: 60_000, ...blockedOn({ deno: 'a thread over its resourceLimits runs on instead of ending' }) }, async () => {
    const loop = await startLoopThread({ resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 } });
    assert.throws(() => loop.submit(tasks.allocate, 512).resultSync({ timeoutMs: 30_000 }), (error) => error instanceof WorkerCrashedError && /memory/.test(error.message));
    assert.throws(() => loop.submit(() => 1), WorkerCrashedError, 'the loop takes no more calls');
    await loop.stop();
  });
});

describe('stopping a loop', () => {
  test('calls in flight are rejected with LoopClosedError, later calls throw it', async () => {
    const loop = await startLoopThread({ stopGraceMs: 50 });
    const stuck = loop.submit(() => new Promise(() => {})); // never settles by itself
    await loop.submit(() => null); // the stuck call has started
    await loop.stop();
    await assert.rejects(stuck, LoopClosedError);
    assert.throws(() => loop.submit(() => 1), LoopClosedError);
    assert.throws(() => runCoroutineThreadsafe(() => 1, loop), LoopClosedError);
    assert.equal(loop.isClosed(), true);
    await loop.stop(); // idempotent
  });

  test('stop aborts a running call cooperatively, and lets it finish within the grace', async () => {
    const loop = await startLoopThread({ stopGraceMs: 5000 });
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const f = loop.submit(state.waitForAbort, cell);
    await loop.submit(() => null); // the call above has started
    await loop.stop();
    assert.equal(await f, 'saw abort');
    assert.equal(Atomics.load(cell, 0), 1);
  });

  test('bad options throw at the call, with a typed error naming the option', () => {
    assert.throws(() => startLoopThread({ name: 5 }), (e) => e instanceof TypeError && /name/.test(e.message));
    assert.throws(() => startLoopThread({ stopGraceMs: -1 }), (e) => e instanceof RangeError && /stopGraceMs/.test(e.message));
    assert.throws(() => startLoopThread({ abortGraceMs: NaN }), (e) => e instanceof TypeError && /abortGraceMs/.test(e.message));
    assert.throws(() => startLoopThread({ nmae: 'x' }), /unknown option 'nmae'/);
    // As the executors check them: refused at the call, not by Node.js as the thread starts (or never).
    assert.throws(() => startLoopThread({ execArgv: 5 }), (e) => e instanceof TypeError && /startLoopThread: execArgv must be an array of strings/.test(e.message));
    assert.throws(() => startLoopThread({ env: 5 }), (e) => e instanceof TypeError && /startLoopThread: env must be an object/.test(e.message));
    assert.throws(() => runCoroutineThreadsafe(() => 1, {}), TypeError);
  });
});

describe('mainLoop and currentLoop', () => {
  test('a worker calls the main loop, in the main thread module instance', async () => {
    const mainState = await import('./fixtures/loop-state.js');
    const before = mainState.increment(0);
    const pool = new ThreadPoolExecutor({ maxWorkers: 2 });
    try {
      const got = await pool.submit(async (url) => {
        const { mainLoop, taskModule } = await import('threadloop');
        const s = taskModule(url);
        const viaAwait = await mainLoop().submit(s.increment, 5);
        const viaSync = mainLoop().submit(s.increment, 1).resultSync({ timeoutMs: 5000 });
        return [viaAwait, viaSync];
      }, new URL('./fixtures/loop-state.js', import.meta.url).href);
      assert.deepEqual(got, [before + 5, before + 6]);
      assert.equal(mainState.increment(0), before + 6);
    } finally {
      await pool.shutdown();
    }
  });

  test('a result nested too deeply fails its own call with TaskSerializationError, never its thread', async () => {
    // With a shared primitive alive on a thread, a result it sends is walked for them, and the
    // walk recursed once per level: its stack overflow escaped as an uncaught RangeError, which
    // ended the process (a mainLoop() call) or crashed the worker (a pool task).
    const queue = new ThreadQueue();
    const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    try {
      const fromMain = await pool.submit(async (depth) => {
        const { mainLoop } = await import('threadloop');
        const deep = (d) => { let v = {}; for (let i = 0; i < d; i++) v = { c: v }; return v; };
        return mainLoop().submit(deep, depth).then(() => 'arrived', (e) => `${e.name}: ${e.message}`);
      }, 100_000);
      assert.match(fromMain, /^TaskSerializationError: .*nested/);
      const fromWorker = pool.submit((q, d) => { let v = {}; for (let i = 0; i < d; i++) v = { c: v }; return v; }, queue, 100_000);
      await assert.rejects(fromWorker, (e) => e instanceof TaskSerializationError && /nested/.test(e.message));
      assert.equal(await pool.submit((a) => a + 1, 1), 2);
    } finally {
      await pool.shutdown();
    }
  });

  test('on the main thread, mainLoop() is currentLoop(); blocking on it is a DeadlockError', async () => {
    assert.equal(mainLoop(), currentLoop());
    const f = currentLoop().submit((x) => x * 2, 21);
    assert.throws(() => f.resultSync(), DeadlockError);
    assert.equal(await f, 42);
  });

  test("a loop thread that dies of a stray throw reports it as an 'error' event; its later calls fail", async () => {
    const loop = await startLoopThread({ name: 'stray' });
    const keep = setInterval(() => {}, 60_000); // an idle loop thread holds nothing open: this waits for its event
    try {
      const reported = new Promise((resolve) => loop.once('error', resolve));
      assert.equal(await loop.submit(() => { setTimeout(() => { throw new Error('late boom'); }, 5); return 'returned'; }), 'returned');
      const error = await reported;
      assert.ok(error instanceof WorkerCrashedError);
      assert.match(error.message, /loop thread 'stray' died: late boom/);
      assert.throws(() => loop.submit(() => 1), (e) => e === error); // at the call, as after a stop
    } finally {
      clearInterval(keep);
      await loop.stop();
    }
  });

  test("a loop thread given its own handle: blocking on it is a DeadlockError, awaiting it works", async () => {
    const loop = await startLoopThread();
    try {
      // It had blocked for ever: only the loop's own thread could answer, and it was blocked.
      assert.deepEqual(await loop.submit(state.blockThenAwaitOwnLoop, loop), ['DeadlockError', 42]);
    } finally {
      await loop.stop();
    }
  });

  test('currentLoop keeps calls from one thread in order', async () => {
    const seen = [];
    globalThis.__seen = seen;
    for (let i = 0; i < 20; i++) currentLoop().callSoonThreadsafe((i) => globalThis.__seen.push(i), i);
    await currentLoop().submit(() => null);
    assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => i));
  });
});

describe('startThread', () => {
  test('runs one task on a fresh thread with its own loop; join gives the result', async () => {
    const t = startThread(async (ms) => {
      const { threadId } = await import('node:worker_threads');
      await new Promise((resolve) => setTimeout(resolve, ms));
      return threadId;
    }, 10);
    const id = await t.join();
    assert.notEqual(id, threadId);
  });

  test('join rejects with the task error', async () => {
    await assert.rejects(startThread(() => { throw new SyntaxError('nope'); }).join(), SyntaxError);
  });

  test('bad arguments fail at the call', () => {
    assert.throws(() => startThread((f) => f, () => 1), /argument 0/);
  });
});

describe('ordering', () => {
  test('calls from one thread start in order, even behind a module that is still loading', async () => {
    const loop = await startLoopThread();
    try {
      // A module task whose module loads on first use, then inline calls that are ready at once.
      loop.callSoonThreadsafe(state.recordGlobal, 'module task');
      for (let i = 0; i < 5; i++) loop.callSoonThreadsafe((i) => { (globalThis.__order ??= []).push(i); }, i);
      assert.deepEqual(await loop.submit(() => globalThis.__order), ['module task', 0, 1, 2, 3, 4]);
    } finally {
      await loop.stop();
    }
  });
});
