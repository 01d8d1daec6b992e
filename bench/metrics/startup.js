// Pool start time to first result, then the idle RSS of the warmed-up 2-worker pool: the process
// RSS delta against a baseline taken just before the pool was created (library already imported).
import { MiB, collectGarbage, now, sleep, submitAll } from '../lib/harness.js';

async function settledRss() {
  collectGarbage();
  await sleep(50);
  collectGarbage();
  return process.memoryUsage.rss();
}

export async function startup({ create, config }) {
  const baseline = await settledRss();
  const start = now();
  const pool = await create();
  await pool.run('noop', 0);
  const startMs = now() - start;
  try {
    // Warm-up: enough tasks that every worker has run both kinds of work.
    await submitAll(pool, 1000);
    await submitAll(pool, 4 * config.workers, 'fib', () => 20);
    await sleep(config.idleMs);
    const idleRssMiB = ((await settledRss()) - baseline) / MiB;
    return { startMs, idleRssMiB };
  } finally {
    await pool.close();
  }
}
