// OPEN BUG (not fixed on this branch): resultSync's DeadlockError is decided per worker, not per
// call. A held mainLoop() call from *another* task on the same worker makes resultSync throw
// DeadlockError naming the task being waited for, which never called back and would finish.
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
