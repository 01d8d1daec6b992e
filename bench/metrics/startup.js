// Pool start time to first result, then the idle RSS of the warmed-up 2-worker pool: the process
// RSS delta against a baseline taken just before the pool was created (library already imported).
//
// RSS also counts the node binary's own code pages the first time anything in the process runs
// that code — V8's optimizing compiler, say — and whether that happens before the baseline or
// after it is chance: importing a library of many modules can be enough. So the private memory
// (anonymous and shared-memory pages, without file-backed ones) is reported too, where Linux's
// /proc tells it: that is what the pool itself costs.
import { readFileSync } from 'node:fs';
import { MiB, collectGarbage, now, sleep, submitAll } from '../lib/harness.js';

function privateBytes() {
  let status;
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return undefined;
  }
  const kB = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  const bytes = (kB('RssAnon') + kB('RssShmem')) * 1024;
  return Number.isFinite(bytes) ? bytes : undefined;
}

async function settledMemory() {
  collectGarbage();
  await sleep(50);
  collectGarbage();
  return { rss: process.memoryUsage.rss(), private: privateBytes() };
}

export async function startup({ create, config }) {
  const baseline = await settledMemory();
  const start = now();
  const pool = await create();
  await pool.run('noop', 0);
  const startMs = now() - start;
  try {
    // Warm-up: enough tasks that every worker has run both kinds of work.
    await submitAll(pool, 1000);
    await submitAll(pool, 4 * config.workers, 'fib', () => 20);
    await sleep(config.idleMs);
    const idle = await settledMemory();
    const values = { startMs, idleRssMiB: (idle.rss - baseline.rss) / MiB };
    if (idle.private !== undefined) values.idlePrivateMiB = (idle.private - baseline.private) / MiB;
    return values;
  } finally {
    await pool.close();
  }
}
