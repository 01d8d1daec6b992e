// No-op throughput: the cost of dispatch alone, with the task `x => x`.
import { now, submitAll, withPool } from '../lib/harness.js';

/** All tasks submitted at once, then awaited together. */
export function burst({ create, config }) {
  return withPool(create, async (pool) => {
    await submitAll(pool, config.noopWarmup);
    const start = now();
    await submitAll(pool, config.noopTasks);
    return { opsPerSec: config.noopTasks / ((now() - start) / 1000) };
  });
}

/** A sliding window: `inFlight` lanes, each submitting its next task when the previous settles. */
export function window({ create, config }) {
  return withPool(create, async (pool) => {
    await submitAll(pool, config.noopWarmup);
    let submitted = 0;
    const lane = async () => {
      while (submitted < config.windowTasks) await pool.run('noop', submitted++);
    };
    const start = now();
    await Promise.all(Array.from({ length: config.inFlight }, lane));
    return { opsPerSec: config.windowTasks / ((now() - start) / 1000) };
  });
}
