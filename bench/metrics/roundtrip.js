// Sequential round trip: one no-op task at a time, each awaited before the next is submitted.
// On a 2-vCPU VM this is bimodal from one process to the next (about 10-20 µs when the two
// threads' wake-ups stay cheap, 70-90 µs when each hand-off needs a cross-vCPU wake-up), which
// is why it is a median over fresh processes and why the spread is worth reading.
import { latencyPercentiles, now, sequentialLatencies, withPool } from '../lib/harness.js';

export function roundtrip({ create, config }) {
  return withPool(create, async (pool) => {
    const call = (i) => pool.run('noop', i);
    // Warm-up: at least roundtripWarmup calls and latencyWarmupMs (see metrics/sync.js).
    const until = now() + config.latencyWarmupMs;
    do await sequentialLatencies(config.roundtripWarmup, call);
    while (now() < until);
    return latencyPercentiles(await sequentialLatencies(config.roundtripCalls, call));
  });
}
