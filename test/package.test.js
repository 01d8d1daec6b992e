// The built package (scripts/build.mjs bundles src/ into a few ES modules): the files that
// package.json and the README name exist, names survive bundling, and each module exists once
// per thread whichever entry point loaded it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as threadloop from 'threadloop';
import * as fastify from 'threadloop/fastify';
import { decodeShareables, encodeShareables } from '../dist/wire/shareable.js';

const root = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

test('every file of the exports map, and the worker entries the README gives bundling users, exist', () => {
  const files = Object.values(pkg.exports).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target)));
  files.push(pkg.main, pkg.types, './dist/runtime/worker-entry.js', './dist/runtime/process-entry.js');
  for (const file of files) assert.ok(existsSync(new URL(file, root)), `${file} is missing`);
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
