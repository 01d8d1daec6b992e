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

export function sync({ create, config }) {
  return withPool(create, async (pool) => {
    const call = (i) => pool.runSync('noop', i);
    blockingLatencies(config.syncWarmup, call);
    return latencyPercentiles(blockingLatencies(config.syncCalls, call));
  });
}
