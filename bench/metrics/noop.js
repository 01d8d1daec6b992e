// No-op throughput: the cost of dispatch alone, with the task `x => x`.
//
// Each measurement first runs the workload untimed — `noopWarmup` tasks, and more of the same
// until `noopWarmupMs` have passed — then for the record, again and again until `noopMs` have
// passed: what a long-running application sees is the steady state (compiled code, a heap grown
// to the load). Both are bounded in time as well as in tasks because a JIT warms up by calls: a
// fast pool would otherwise be timed over a few milliseconds while it still compiles, a slow
// one long after.
import { now, submitAll, withPool } from '../lib/harness.js';

/** Runs `run(tasks)` for at least `noopWarmup` tasks and at least `noopWarmupMs`. */
async function warmUp(config, run) {
  const until = now() + config.noopWarmupMs;
  let done = 0;
  while (done < config.noopWarmup || now() < until) {
    await run(config.noopWarmup);
    done += config.noopWarmup;
  }
}

/** Runs `run(tasks)` at least once and until `noopMs` have passed; resolves to tasks/s. */
async function timed(config, tasks, run) {
  const start = now();
  let done = 0;
  do {
    await run(tasks);
    done += tasks;
  } while (now() - start < config.noopMs);
  return done / ((now() - start) / 1000);
}

/** All tasks submitted at once, then awaited together. */
export function burst({ create, config }) {
  return withPool(create, async (pool) => {
    await warmUp(config, (n) => submitAll(pool, n));
    return { opsPerSec: await timed(config, config.noopTasks, (n) => submitAll(pool, n)) };
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
    await warmUp(config, lanes);
    return { opsPerSec: await timed(config, config.windowTasks, lanes) };
  });
}
