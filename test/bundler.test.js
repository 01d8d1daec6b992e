// Bundling an app that uses threadloop with esbuild: the app, its task module and threadloop's
// worker entry become files of one output folder, and the app points the pool at the bundled
// worker entry with the `workerEntry` option. Nothing outside that folder is needed to run it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

const sources = {
  'app.js': `
    import { ThreadPoolExecutor, taskModule } from 'threadloop';

    const tasks = taskModule(new URL('./tasks.js', import.meta.url));
    const results = {};

    const pool = new ThreadPoolExecutor({ maxWorkers: 2, workerEntry: new URL('./worker.js', import.meta.url) });
    results.inline = await pool.submit((a, b) => a * b, 6, 7);
    results.module = await pool.submit(tasks.whoRuns, 'bundled');
    await pool.shutdown();

    // Without workerEntry the pool looks for threadloop's worker script next to its own files,
    // which the bundle does not have.
    const unbundled = new ThreadPoolExecutor({ maxWorkers: 1 });
    results.withoutWorkerEntry = await unbundled.submit((x) => x, 1).then(() => 'ran', (error) => error.code);
    await unbundled.shutdown().catch(() => {});

    console.log(JSON.stringify(results));
  `,
  'tasks.js': `
    import { isMainThread } from 'node:worker_threads';
    import { currentTask } from 'threadloop/task';

    export function whoRuns(label) {
      return { label, task: currentTask().name, onWorkerThread: !isMainThread };
    }
  `,
};

test('an esbuild bundle runs with workerEntry pointing at the bundled worker entry', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'threadloop-bundle-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const src = join(dir, 'src');
  const out = join(dir, 'out');
  await mkdir(join(dir, 'node_modules'), { recursive: true });
  await mkdir(src);
  // threadloop as an installed dependency of the app.
  await symlink(root, join(dir, 'node_modules', 'threadloop'), 'dir');
  for (const [name, text] of Object.entries(sources)) await writeFile(join(src, name), text);

  await build({
    entryPoints: {
      app: join(src, 'app.js'),
      tasks: join(src, 'tasks.js'),
      worker: join(dir, 'node_modules', 'threadloop', 'dist', 'runtime', 'worker-entry.js'),
    },
    outdir: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // One copy of threadloop shared by the app, the worker entry and the task module, so that
    // currentTask() in a task sees the worker runtime's state.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    logLevel: 'error',
  });
  // The bundle must not fall back on the installed package at run time.
  await rm(join(dir, 'node_modules'), { recursive: true });
  assert.deepEqual((await readdir(out)).sort(), ['app.js', 'chunks', 'tasks.js', 'worker.js']);

  const { stdout } = await promisify(execFile)(process.execPath, [join(out, 'app.js')], { cwd: out, timeout: 30_000 });
  assert.deepEqual(JSON.parse(stdout), {
    inline: 42,
    module: { label: 'bundled', task: 'whoRuns', onWorkerThread: true },
    withoutWorkerEntry: 'ERR_BROKEN_EXECUTOR',
  });
});
