// Synchronous call: block the main thread until another thread has run a no-op and answered.
import { latencyPercentiles, now, withPool } from '../lib/harness.js';

/** Like sequentialLatencies, without an `await` (and its microtask turn) inside the timing. */
function blockingLatencies(count, call) {
  const latencies = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const start = now();
    call(i);
    latencies[i] = now() - start;
  }
  return latencies;
}

/**
 * A worker blocks on calls into the main thread's loop (threadloop: `mainLoop().submit(…)
 * .resultSync()` in a pool task); the main thread answers from its event loop. The worker times
 * its own calls, after the same warm-up as below.
 */
export function fromWorker({ create, config }) {
  return withPool(create, (pool) => pool.syncFromWorker({ warmup: config.syncWarmup, warmupMs: config.latencyWarmupMs, calls: config.syncCalls }));
}

/**
 * The warm-up: at least `syncWarmup` calls and `warmupMs` (compiled code, a grown heap, and a
 * caller and a worker that have settled into spinning or sleeping: a few thousand calls), then
 * `syncCalls` timed.
 */
export function sync({ create, config }) {
  return withPool(create, async (pool) => {
    const call = (i) => pool.runSync('noop', i);
    const until = now() + config.latencyWarmupMs;
    do blockingLatencies(config.syncWarmup, call);
    while (now() < until);
    return latencyPercentiles(blockingLatencies(config.syncCalls, call));
  });
}
