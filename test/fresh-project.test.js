// threadloop as a new user gets it: `npm pack`, the tarball installed into a fresh project (outside
// this repository), and a small strict TypeScript app (test/fixtures/consumer/) compiled with tsc
// (skipLibCheck: false, so the published .d.ts files are checked too) and run — compiled, under
// tsx, and as plain JavaScript. Its task module imports threadloop/task and calls currentTask()
// and mainLoop(). Offline: typescript, tsx and @types/node come from this repository's node_modules.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const npm = process.env.npm_execpath?.endsWith('.js') ? [process.execPath, process.env.npm_execpath] : ['npm'];

/** What the app prints, compiled, under tsx and in plain JavaScript alike. */
const expected = {
  inline: 5,
  fib: 55,
  where: { task: 'whereAmI', signal: true, onWorkerThread: true, viaMainLoop: 42 },
  size: 16,
  detached: true,
  squares: [0, 1, 4],
  counted: [3, 2, 1],
  liftoff: 'liftoff',
  doubled: 42,
  traced: true,
  completed: ['eight=21', 'seven=13'],
};

let project;

before(async () => {
  project = mkdtempSync(join(tmpdir(), 'threadloop-fresh-'));
  // The tarball of what is built now (`npm pack` alone would build first, through prepack; the
  // suite has just built dist/).
  const { stdout } = await run(npm[0], [...npm.slice(1), 'pack', '--ignore-scripts', '--json', '--pack-destination', project], { cwd: root });
  const [{ filename }] = JSON.parse(stdout);
  const consumer = join(root, 'test', 'fixtures', 'consumer');
  const manifest = JSON.parse(readFileSync(join(consumer, 'package.json'), 'utf8'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ ...manifest, dependencies: { threadloop: `file:./${filename}` } }));
  await run(npm[0], [...npm.slice(1), 'install', '--offline', '--no-audit', '--no-fund'], { cwd: project });
  // The tools (and fastify for src/web.ts, bullmq for src/fleet.ts), from this repository (after
  // `npm install`, which would remove them as extraneous).
  for (const name of ['typescript', 'tsx', '@types/node', 'fastify', 'bullmq']) {
    mkdirSync(join(project, 'node_modules', name, '..'), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), join(project, 'node_modules', name), 'dir');
  }
  cpSync(consumer, project, { recursive: true, filter: (file) => file !== join(consumer, 'package.json') });
});

after(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

/** Runs `node ...args` in the project and parses the last line it prints. */
async function runApp(args) {
  const { stdout } = await run(process.execPath, args, { cwd: project, timeout: 30_000 }).catch((error) => {
    assert.fail(`node ${args.join(' ')} failed:\n${error.stderr || error.message}`);
  });
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

test('the installed package has its README, CHANGELOG, LICENSE and dist/, and no sources or tests', () => {
  const installed = join(project, 'node_modules', 'threadloop');
  const files = readdirSync(installed).sort();
  assert.deepEqual(files, ['CHANGELOG.md', 'LICENSE', 'README.md', 'dist', 'package.json']);
  assert.ok(existsSync(join(installed, 'dist', 'runtime', 'worker-entry.js')));
});

test('a strict TypeScript app compiles against the installed package with tsc (skipLibCheck: false)', { timeout: 60_000 }, async () => {
  const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc');
  const { stdout } = await run(process.execPath, [tsc, '-p', '.'], { cwd: project, timeout: 50_000 })
    .catch((error) => assert.fail(`tsc found errors:\n${error.stdout}${error.stderr}`));
  assert.equal(stdout, '');
});

test('the compiled app runs: pool, task module with currentTask() and mainLoop(), queue, loop thread', { timeout: 60_000 }, async () => {
  if (!existsSync(join(project, 'dist', 'app.js'))) assert.fail('dist/app.js is missing: the tsc test failed');
  assert.deepEqual(await runApp(['dist/app.js']), expected);
});

test('the TypeScript app runs under tsx (node --import tsx), its .ts task module on the workers', { timeout: 60_000 }, async () => {
  assert.deepEqual(await runApp(['--import', 'tsx', 'src/app.ts']), expected);
});

test('the same app in plain JavaScript runs', { timeout: 60_000 }, async () => {
  assert.deepEqual(await runApp(['js/app.js']), expected);
});
