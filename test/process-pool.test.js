// ProcessPoolExecutor: the shared executor contract over child processes, then what only
// processes do — a child killed by a signal, recycling, process-wide state, parent liveness.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import {
  DeadlockError,
  Mutex,
  ProcessPoolExecutor,
  TaskSerializationError,
  ThreadQueue,
  WorkerCrashedError,
  taskModule,
} from 'threadloop';
import { executorSuite } from './helpers/executor-suite.js';
import { eventually, fixtureUrl, keepAlive } from './helpers/util.js';

const t = taskModule(fixtureUrl('tasks.js'));
const run = promisify(execFile);

let release;
before(() => {
  release = keepAlive();
});
after(() => release());

// The same contract as ThreadPoolExecutor; a child process costs more to start and to talk to,
// so the load and fault-injection tests run a quarter of the tasks.
executorSuite('ProcessPoolExecutor', (options) => new ProcessPoolExecutor(options), {
  sharedMemory: false,
  kind: 'child process',
  scale: 0.25,
});

describe('ProcessPoolExecutor: what only processes do', () => {
  const pools = [];
  const make = (options = {}) => {
    const pool = new ProcessPoolExecutor(options);
    pools.push(pool);
    return pool;
  };
  after(() => Promise.all(pools.map((p) => p.shutdown({ cancelFutures: true }))));

  test('tasks run in other processes', async () => {
    const pool = make({ maxWorkers: 2 });
    const pids = await Promise.all(Array.from({ length: 6 }, () => pool.submit(() => process.pid)));
    assert.ok(pids.every((pid) => pid !== process.pid));
  });

  test('a child killed with SIGKILL mid-task fails only its task, and is replaced', async () => {
    const pool = make({ maxWorkers: 1 });
    const killed = pool.submit(() => process.kill(process.pid, 'SIGKILL'));
    const after = pool.submit(t.add, 2, 3); // queued behind it: not sent ahead to a process
    await assert.rejects(killed, (e) => e instanceof WorkerCrashedError && e.signal === 'SIGKILL' && /SIGKILL/.test(e.message));
    assert.equal(await after, 5);
  });

  test('a child that exits with a code reports it', async () => {
    const pool = make({ maxWorkers: 1 });
    await assert.rejects(pool.submit(() => process.exit(7)), (e) => e instanceof WorkerCrashedError && e.exitCode === 7);
  });

  test('maxTasksPerWorker recycles children', async () => {
    const pool = make({ maxWorkers: 1, maxTasksPerWorker: 2 });
    const pids = [];
    for (let i = 0; i < 6; i++) pids.push(await pool.submit(() => process.pid));
    assert.equal(new Set(pids).size, 3);
  });

  test('process.chdir in a task does not move the parent', async () => {
    const pool = make({ maxWorkers: 1 });
    const before = process.cwd();
    // eslint-disable-next-line no-undef -- inline tasks have require() on the other side
    const there = await pool.submit(() => { process.chdir(require('node:os').tmpdir()); return process.cwd(); });
    assert.notEqual(there, before);
    assert.equal(process.cwd(), before);
  });

  test('the cwd option sets the children\'s working directory', async () => {
    const dir = fileURLToPath(new URL('./fixtures/', import.meta.url));
    const pool = make({ maxWorkers: 1, cwd: dir });
    assert.equal(await pool.submit(() => process.cwd() + '/'), dir);
    assert.throws(() => new ProcessPoolExecutor({ cwd: 5 }), TypeError);
    // A missing one is refused at construction: spawned there, a child failed with "spawn node ENOENT".
    assert.throws(() => new ProcessPoolExecutor({ cwd: `${dir}no-such-dir` }), (e) => e instanceof TypeError && /cwd '.*no-such-dir' is not a directory/.test(e.message));
  });

  test('shared-memory primitives cannot be sent to a child, with a clear error', () => {
    const pool = make({ maxWorkers: 1 });
    assert.throws(() => pool.submit((q) => q, new ThreadQueue({ capacity: 4 })), (e) => e instanceof TaskSerializationError && /child process/.test(e.message));
    assert.throws(() => pool.submit((o) => o, { lock: new Mutex() }), TaskSerializationError);
    assert.equal(pool.stats().queued, 0);
  });

  test('resultSync is refused: results only arrive through the event loop', async () => {
    const pool = make({ maxWorkers: 1 });
    const f = pool.submit(t.add, 1, 2);
    assert.throws(() => f.resultSync(), DeadlockError);
    assert.equal(await f, 3);
  });

  test('a child calls back into the parent main loop', async () => {
    const pool = make({ maxWorkers: 1 });
    globalThis.__parentValue = 'from the parent';
    const got = await pool.submit(async () => {
      const { mainLoop } = await import('threadloop');
      return mainLoop().submit(() => globalThis.__parentValue);
    });
    assert.equal(got, 'from the parent');
  });

  test('5,000 tasks with random child deaths: every future settles exactly once', async () => {
    const pool = make({ maxWorkers: 2 });
    const total = 5000;
    const settled = new Uint8Array(total);
    let twice = 0;
    const futures = [];
    for (let i = 0; i < total; i++) {
      const dies = i % 500 === 250; // ten deaths, spread out
      const f = dies ? pool.submit(() => process.kill(process.pid, 'SIGKILL')) : pool.submit(t.add, i, 1);
      f.addDoneCallback(() => {
        if (settled[i]++ > 0) twice++;
      });
      futures.push(f);
    }
    const outcomes = await Promise.allSettled(futures);
    assert.equal(twice, 0);
    assert.ok(settled.every((n) => n === 1));
    outcomes.forEach((o, i) => {
      if (i % 500 === 250) assert.ok(o.status === 'rejected' && o.reason instanceof WorkerCrashedError);
      else assert.deepEqual(o, { status: 'fulfilled', value: i + 1 });
    });
    assert.equal(await pool.submit(t.add, 1, 1), 2); // still serving
  });

  test('children never outlive the parent', async () => {
    // A parent that starts a child, reports its pid, then is killed with SIGKILL.
    const script = `
      import { ProcessPoolExecutor } from 'threadloop';
      const pool = new ProcessPoolExecutor({ maxWorkers: 1 });
      const pid = await pool.submit(() => process.pid);
      pool.submit(() => new Promise(() => {})); // keep the child busy
      console.log(pid);
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)) }).catch((e) => e);
    const pid = Number(String(child.stdout).trim());
    assert.ok(pid > 0, `the parent printed its child's pid: ${child.stdout}`);
    // The orphan notices its IPC channel closed and exits; poll until it is gone.
    const deadline = Date.now() + 15_000; // a hang guard: a loaded machine may take seconds
    let alive = true;
    while (alive && Date.now() < deadline) {
      try {
        process.kill(pid, 0);
        await new Promise((resolve) => setTimeout(resolve, 20));
      } catch {
        alive = false;
      }
    }
    assert.equal(alive, false, 'the child exited after its parent died');
  });

  for (const signal of ['SIGKILL', 'SIGTERM']) {
    test(`busy children end soon after their parent's death by ${signal} (their watchdog polls every 250 ms), and print no EPIPE`, async () => {
      // Their event loops are blocked, so no 'disconnect' event can tell them (a container's
      // SIGTERM, kill -9); one child returns a result right after, into a closed channel.
      const parent = spawn(process.execPath, [fileURLToPath(fixtureUrl('orphan-parent.js'))], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const ended = Promise.all([parent.stdout, parent.stderr].map((stream) => {
        stream.setEncoding('utf8');
        stream.on('data', (text) => (output += text));
        return once(stream, 'end'); // when the parent and both children, which share it, are gone
      }));
      const children = () => [...output.matchAll(/\{"child":(\d+)\}/g)].map((m) => Number(m[1]));
      try {
        await eventually(() => children().length === 2, { timeoutMs: 30_000, what: 'both children to start spinning' });
        parent.kill(signal);
        // A bound, not a timing: a loaded CI machine may take seconds; a child that outlives it would run on for ever.
        await eventually(() => children().every((pid) => !processExists(pid)), { timeoutMs: 15_000, what: `the children to end after the parent's ${signal}` });
        await ended;
        assert.doesNotMatch(output, /EPIPE|Error/);
      } finally {
        parent.kill('SIGKILL');
        for (const pid of children()) if (processExists(pid)) process.kill(pid, 'SIGKILL');
      }
    });
  }
});

/** Whether process `pid` exists and has not ended (a zombie waiting to be reaped has ended). */
function processExists(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (error.code === 'ESRCH') return false;
    throw error;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc here: it exists
  }
}
