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
