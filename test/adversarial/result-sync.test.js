// resultSync: held calls, nested waits, DeadlockError only where blocking could never end.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeadlockError, ThreadPoolExecutor, currentLoop, startLoopThread, taskModule } from 'threadloop';

const t = taskModule(new URL('./tasks.js', import.meta.url));

async function marksOnMain() {
  // Let held calls run (they run from a microtask once the thread is free).
  await new Promise((r) => setImmediate(r));
  return currentLoop().submit(t.marks);
}

test('a call that arrives after a nested resultSync (from a done callback) returned still waits: never runs inside the outer resultSync', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 2, minWorkers: 2 });
  try {
    await Promise.all([pool.submit(t.sleep, 20), pool.submit(t.sleep, 20)]); // both workers up
    // Each worker's connection has resolved `mark` here: a call of it would run at once, not after an import.
    await Promise.all([pool.submit(t.laterPokeMain, 'warm', 30, 30), pool.submit(t.laterPokeMain, 'warm', 30, 30)]);
    await new Promise((r) => setTimeout(r, 20));
    const quick = pool.submit(t.sleep, 10, 'quick');
    const other = pool.submit(t.sleep, 60, 'other');
    // The outer wait's task pokes the main loop after the nested wait is over, then finishes.
    const outer = pool.submit(t.laterPokeMain, 'poke', 150, 150);
    quick.addDoneCallback(() => other.resultSync({ timeoutMs: 10_000 }));
    globalThis.__blocked = true;
    let value;
    let error;
    try {
      value = outer.resultSync({ timeoutMs: 10_000 });
    } catch (e) {
      error = e;
    } finally {
      globalThis.__blocked = false;
    }
    const m = (await marksOnMain()).filter((x) => x.tag === 'poke');
    assert.equal(m.length, 1, 'the poke ran once');
    assert.equal(m[0].blocked, false, 'the poke ran inside resultSync');
    // The task did not wait for its call-back: resultSync may return its value or (documented) DeadlockError.
    if (error !== undefined) assert.ok(error instanceof DeadlockError, String(error));
    else assert.equal(value, 'poke');
  } finally {
    await pool.shutdown();
  }
});

test("blocking on worker A's task while worker B's task waits on mainLoop(): no DeadlockError", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 2, minWorkers: 2 });
  try {
    await Promise.all([pool.submit(t.sleep, 20), pool.submit(t.sleep, 20)]);
    const b = pool.submit(t.callMain, 'b');
    const a = pool.submit(t.spin, 300);
    assert.equal(a.resultSync({ timeoutMs: 10_000 }), 300);
    assert.equal(await b, 'b');
  } finally {
    await pool.shutdown();
  }
});

test('the task calling back and awaiting: DeadlockError; held calls then run once, in order', async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1, minWorkers: 1 });
  try {
    await pool.submit(t.echo, 'warm');
    const f = pool.submit(t.floodMain, 50);
    assert.throws(() => f.resultSync({ timeoutMs: 10_000 }), DeadlockError);
    assert.deepEqual(await f, Array.from({ length: 50 }, (_, i) => i));
    // and nested: a second blocking wait on the same future, then await
    const g = pool.submit(t.callMain, 'again');
    assert.throws(() => g.resultSync({ timeoutMs: 10_000 }), DeadlockError);
    assert.throws(() => g.resultSync({ timeoutMs: 10_000 }), DeadlockError);
    assert.equal(await g, 'again');
  } finally {
    await pool.shutdown();
  }
});

test('resultSync on a loop thread future and on a currentLoop future', async () => {
  const loop = await startLoopThread();
  try {
    assert.equal(loop.submit(t.sleep, 30, 'x').resultSync({ timeoutMs: 10_000 }), 'x');
    const own = currentLoop().submit(t.echo, 1);
    assert.throws(() => own.resultSync(), DeadlockError);
    assert.equal(await own, 1);
  } finally {
    await loop.stop();
  }
});
