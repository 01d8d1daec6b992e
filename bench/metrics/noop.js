// No-op throughput: the cost of dispatch alone, with the task `x => x`.
//
// Each measurement first runs the same workload untimed (`noopWarmup` tasks: all of it in full
// mode, half in quick mode), then again for the record: what a long-running application sees is
// the steady state (compiled code, a heap grown to the load), and every contender gets the same
// warm-up.
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
    const lanes = async (total) => {
      let submitted = 0;
      const lane = async () => {
        while (submitted < total) await pool.run('noop', submitted++);
      };
      await Promise.all(Array.from({ length: config.inFlight }, lane));
    };
    await lanes(config.noopWarmup);
    const start = now();
    await lanes(config.windowTasks);
    return { opsPerSec: config.windowTasks / ((now() - start) / 1000) };
  });
}
