// The built package (scripts/build.mjs bundles src/ into a few ES modules): the files that
// package.json and the README name exist, names survive bundling, each module exists once per
// thread whichever entry point loaded it, and threadloop/task loads nothing a worker would not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as threadloop from 'threadloop';
import * as fastify from 'threadloop/fastify';
import * as taskEntry from 'threadloop/task';
import { decodeShareables, encodeShareables } from '../dist/wire/shareable.js';

const root = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

test('every file of the exports map, and the worker entries the README gives bundling users, exist', () => {
  const files = Object.values(pkg.exports).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target)));
  files.push(pkg.main, pkg.types, './dist/runtime/worker-entry.js', './dist/runtime/process-entry.js');
  for (const file of files) assert.ok(existsSync(new URL(file, root)), `${file} is missing`);
});

test("the source maps name the files of src/, from where they lie in dist/", () => {
  const maps = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const url = new URL(entry.name + (entry.isDirectory() ? '/' : ''), dir);
      if (entry.isDirectory()) walk(url);
      else if (entry.name.endsWith('.js.map')) maps.push(url);
    }
  };
  walk(new URL('dist/', root));
  assert.ok(maps.length > 5);
  for (const map of maps) {
    const { sources } = JSON.parse(readFileSync(map, 'utf8'));
    for (const source of sources) assert.ok(existsSync(new URL(source, map)), `${fileURLToPath(map)} names ${source}, which does not exist`);
  }
});

test('every exported class keeps its own name (error names, for one, are their class names)', () => {
  const classes = Object.entries({ ...threadloop, ...fastify }).filter(
    ([key, value]) => typeof value === 'function' && /^[A-Z]/.test(key) && key !== 'default',
  );
  assert.ok(classes.length > 20);
  for (const [key, value] of classes) assert.equal(value.name, key);
  assert.equal(new threadloop.TimeoutError('late').name, 'TimeoutError');
});

test('the JavaScript in dist/ is ASCII only, so V8 keeps each source as one byte per character', () => {
  const dist = fileURLToPath(new URL('dist/', root));
  const files = readdirSync(dist, { recursive: true }).filter((f) => f.endsWith('.js'));
  assert.ok(files.length > 0);
  for (const file of files) assert.doesNotMatch(readFileSync(dist + file, 'utf8'), /[\u0080-\uffff]/, file);
});

test('dist/wire/shareable.js and threadloop share their modules: one registry, one Mutex class', () => {
  const mutex = new threadloop.Mutex();
  const encoded = encodeShareables([mutex]);
  assert.equal(encoded.found, true);
  const [revived] = decodeShareables(structuredClone(encoded.value));
  assert.ok(revived instanceof threadloop.Mutex);
});

test('a task module that imports threadloop sees the worker runtime of its thread', async () => {
  const pool = new threadloop.ThreadPoolExecutor({ maxWorkers: 1 });
  const tasks = threadloop.taskModule(new URL('./fixtures/package-tasks.js', import.meta.url));
  try {
    assert.deepEqual(await pool.submit(tasks.whereAmI), { task: 'whereAmI', onWorkerThread: true, futureFromIndex: true, viaMainLoop: 42 });
  } finally {
    await pool.shutdown();
  }
});

/** The dist/ files `file` loads when imported (static imports, transitively; `import()` is lazy), and the built-ins. */
function staticImports(file, seen = new Set()) {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(new URL(file, root), 'utf8');
  for (const [, specifier] of text.matchAll(/^(?:import|export)\b[^;"']*?(?:from\s*)?"([^"]+)";/gm)) {
    if (specifier.startsWith('node:')) seen.add(specifier);
    else staticImports(new URL(specifier, new URL(file, root)).href.slice(root.href.length), seen);
  }
  return seen;
}

test('threadloop/task exports the task-side helpers, the very same values threadloop exports', () => {
  assert.deepEqual(Object.keys(taskEntry).sort(), ['ContextVar', 'currentLoop', 'currentTask', 'currentThread', 'mainLoop', 'moduleTask', 'move', 'shareContext', 'taskModule']);
  for (const [name, value] of Object.entries(taskEntry)) assert.equal(value, threadloop[name], name);
});

test('importing threadloop/task loads no file and no built-in module that a worker has not loaded already', () => {
  const light = staticImports('dist/task.js');
  assert.ok([...light].some((file) => file.startsWith('dist/chunks/')), 'the walk follows the chunks');
  for (const entry of ['dist/runtime/worker-entry.js', 'dist/runtime/process-entry.js']) {
    const runtime = staticImports(entry);
    const extra = [...light].filter((file) => file !== 'dist/task.js' && !runtime.has(file));
    assert.deepEqual(extra, [], `threadloop/task loads more than ${entry}`);
  }
  // What the main entry loads besides: the executors, the shared-memory primitives, child processes.
  for (const file of light) {
    if (file.startsWith('node:')) continue;
    const text = readFileSync(new URL(file, root), 'utf8');
    assert.doesNotMatch(text, /^\/\/ src\/(shared|core\/(executor|pool-executor|process-pool))\b/m, file);
  }
  assert.ok(staticImports('dist/index.js').size > light.size);
});

test('threadloop/task does not split the worker runtime into more files (src/task.ts imports slots.ts for that)', () => {
  const light = staticImports('dist/task.js');
  for (const entry of ['dist/runtime/worker-entry.js', 'dist/runtime/process-entry.js']) {
    const own = [...staticImports(entry)].filter((file) => file !== entry && !light.has(file));
    // Only the runtime itself: everything else a worker loads is in the chunks task code loads.
    assert.equal(own.length, 1, `${entry} loads ${own.join(', ')} besides what threadloop/task loads`);
    assert.match(readFileSync(new URL(own[0], root), 'utf8'), /^\/\/ src\/runtime\/worker-runtime\.ts$/m);
  }
});

test('a task module that imports threadloop/task: currentTask, move and the loops of the running worker', async () => {
  const pool = new threadloop.ThreadPoolExecutor({ maxWorkers: 1 });
  const tasks = threadloop.taskModule(new URL('./fixtures/task-entry-tasks.js', import.meta.url));
  try {
    assert.deepEqual(await pool.submit(tasks.whereAmI), {
      task: 'whereAmI',
      signal: true,
      onWorkerThread: true,
      viaMainLoop: 42,
      viaOwnLoop: 2,
      sameFunctions: true,
      futureFromIndex: true,
      builtinsBefore: [],
    });
    assert.deepEqual(await pool.submit(tasks.moved), new Uint8Array(16).fill(7));
    assert.equal(await pool.submit(tasks.keptLength), 0, 'the result was transferred, not copied');
  } finally {
    await pool.shutdown();
  }
});
