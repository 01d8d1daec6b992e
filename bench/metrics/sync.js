// Synchronous call: block the main thread until another thread has run a no-op and answered.
import { timedBlockingCalls, withPool } from '../lib/harness.js';

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
  return withPool(create, async (pool) => timedBlockingCalls((i) => pool.runSync('noop', i), {
    warmup: config.syncWarmup,
    warmupMs: config.latencyWarmupMs,
    calls: config.syncCalls,
  }));
}
