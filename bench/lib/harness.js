// Helpers for the measurement side (runs inside the measuring child process).
import { quantileSorted, sorted } from './stats.js';

export const MiB = 1024 * 1024;

export const now = () => performance.now();

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Full GC when the child runs with --expose-gc (measure.js is always started that way). */
export function collectGarbage() {
  if (typeof globalThis.gc === 'function') globalThis.gc();
}

/** p50 and p99 of latencies in milliseconds, reported in microseconds. */
export function latencyPercentiles(latenciesMs) {
  const s = sorted(latenciesMs);
  return { p50Us: quantileSorted(s, 0.5) * 1000, p99Us: quantileSorted(s, 0.99) * 1000 };
}

/**
 * Blocking calls, timed one by one: `call(i)` returns when its answer is in. First at least
 * `warmup` calls and `warmupMs` untimed (compiled code, a grown heap, and a caller and a worker
 * that have settled into spinning or sleeping take a few thousand calls), then `calls` timed;
 * resolves nothing, so no `await` (and its microtask turn) is inside the timing. p50/p99 in µs.
 */
export function timedBlockingCalls(call, { warmup, warmupMs, calls }) {
  const until = now() + warmupMs;
  do for (let i = 0; i < warmup; i++) call(i);
  while (now() < until);
  const latencies = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const start = now();
    call(i);
    latencies[i] = now() - start;
  }
  return latencyPercentiles(latencies);
}

/** Creates a pool, runs `body(pool)` and always closes the pool. */
export async function withPool(create, body) {
  const pool = await create();
  try {
    return await body(pool);
  } finally {
    await pool.close();
  }
}

/** Submits `count` no-op tasks at once and waits for all of them. */
export function submitAll(pool, count, name = 'noop', arg = (i) => i) {
  const results = new Array(count);
  for (let i = 0; i < count; i++) results[i] = pool.run(name, arg(i));
  return Promise.all(results);
}

/** Runs `count` calls one after another; returns each call's latency in milliseconds. */
export async function sequentialLatencies(count, call) {
  const latencies = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const start = now();
    await call(i);
    latencies[i] = now() - start;
  }
  return latencies;
}
