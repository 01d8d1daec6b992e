// One runtime state per thread, whatever loaded threadloop how many times. Under tsx on Node 20 a
// worker loads a .ts task module's `import 'threadloop/task'` as a second copy of threadloop
// (test/typescript-tasks.test.js runs that case); here a second copy of the built package,
// loaded from another folder as a second installed copy would be, stands in for it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  Future, QueueFullError, TaskSerializationError, ThreadEvent, ThreadloopError, ThreadPoolExecutor, TimeoutError,
  currentLoop, currentTask, taskModule,
} from 'threadloop';
import { fixtureUrl } from './helpers/util.js';

const dist = new URL('../dist/', import.meta.url);
let dir;
let other;
let pool;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'threadloop-copy-'));
  cpSync(dist, join(dir, 'dist'), { recursive: true });
  other = await import(pathToFileURL(join(dir, 'dist', 'index.js')).href);
  assert.notEqual(other.ThreadPoolExecutor, ThreadPoolExecutor, 'a second copy, with classes of its own');
  pool = new ThreadPoolExecutor({ maxWorkers: 1 });
});

after(async () => {
  await pool?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

test("a task made by the other copy runs on this copy's pool, and task ids do not collide", async () => {
  const mine = taskModule(fixtureUrl('tasks.js'));
  const theirs = other.taskModule(fixtureUrl('tasks.js'));
  // Each copy's first task: with a counter per copy both would be the same task id, and the
  // worker would run the first one defined for both.
  assert.equal(await pool.submit(mine.add, 1, 2), 3);
  assert.equal(await pool.submit(theirs.double, 21), 42);
  assert.equal(await pool.submit(theirs.add, 2, 2), 4);
  assert.equal(await pool.submit(mine.double, 5), 10);
});

test("currentTask() of the other copy sees the call this copy's runtime runs", async () => {
  globalThis.otherCurrentTask = other.currentTask;
  try {
    // currentLoop() runs the task on this thread, where the global is.
    assert.equal(await currentLoop().submit(function probe() { return globalThis.otherCurrentTask().name; }), 'probe');
  } finally {
    delete globalThis.otherCurrentTask;
  }
  assert.throws(() => currentTask(), /outside a running task/);
});

test("a queue or lock made by the other copy crosses threads live through this copy's pool", async () => {
  const event = new other.ThreadEvent();
  await pool.submit((e) => e.set(), event);
  assert.equal(event.isSet(), true);
  assert.ok(event instanceof other.ThreadEvent);
  assert.ok(!(event instanceof ThreadEvent), 'classes other than errors stay per copy');
});

test('executors made by either copy get distinct default names', async () => {
  const a = new ThreadPoolExecutor({ maxWorkers: 1 });
  const b = new other.ThreadPoolExecutor({ maxWorkers: 1 });
  try {
    assert.ok(![pool.name, a.name].includes(b.name), `${b.name} is taken already`);
  } finally {
    await Promise.all([a.shutdown(), b.shutdown()]);
  }
});

test("errors are instanceof across copies, by class name along the prototype chain", () => {
  assert.ok(new other.TimeoutError('x') instanceof TimeoutError);
  assert.ok(new other.TimeoutError('x') instanceof ThreadloopError);
  assert.ok(new TimeoutError('x') instanceof other.TimeoutError);
  assert.ok(!(new other.TimeoutError('x') instanceof QueueFullError));
  assert.ok(!(new other.QueueFullError('x') instanceof TaskSerializationError));
  assert.ok(!(new Error('x') instanceof ThreadloopError));
  assert.ok(!(null instanceof ThreadloopError));
  const plain = Object.assign(new Error('x'), { code: 'ERR_TIMEOUT', name: 'TimeoutError' });
  assert.ok(!(plain instanceof TimeoutError), 'an error that merely looks like one is not one');
});

test('a Future is instanceof across copies, and nothing else is taken for one', async () => {
  const theirs = new other.Future();
  assert.ok(theirs instanceof Future);
  assert.ok(new Future() instanceof other.Future);
  assert.ok(!(Promise.resolve(1) instanceof Future));
  assert.ok(!(null instanceof Future));
  theirs.setResult(7);
  assert.equal(await theirs, 7);
});

test('a copy of threadloop that keeps its thread state in another shape fails loudly at load', async () => {
  const script = `
    globalThis[Symbol.for('threadloop.threadState')] = new Map([['current-task', { version: 999, state: {} }]]);
    try { await import('threadloop'); console.log('loaded'); } catch (error) { console.log(error.message); }
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url) });
  assert.match(stdout, /two incompatible copies of threadloop are loaded in this thread \(they keep 'current-task' as version 999 and 1\)/);
});
