// resultSync's DeadlockError is decided per call, not per worker: a held mainLoop() call made by
// *another* task on the same worker must not fail a resultSync on a task that never called back
// (each CALL names the call that made it: its origin).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ThreadPoolExecutor, taskModule } from 'threadloop';

const t = taskModule(new URL('./tasks.js', import.meta.url));

test("blocking on a task queued behind, on the same worker, an async task waiting on mainLoop(): no DeadlockError", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1, minWorkers: 1 });
  try {
    await pool.submit(t.echo, 'warm');
    const b = pool.submit(t.callMain, 'b');
    const a = pool.submit(t.spin, 300);
    let r;
    try {
      r = a.resultSync({ timeoutMs: 10_000 });
    } catch (e) {
      r = e;
    }
    assert.equal(r, 300, `got ${r}`);
    assert.equal(await b, 'b');
  } finally {
    await pool.shutdown();
  }
});
