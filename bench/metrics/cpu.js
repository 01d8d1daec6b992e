// CPU-bound speed-up: N × fib(n) on the pool vs the same N run serially on the main thread.
// The hardware capacity (the raw worker_threads speed-up) is measured in the same process,
// interleaved with the contender's runs, so both see the same background load: on a shared
// 2-core machine a busy neighbour can take the second core away for seconds at a time.
import { create as createRaw } from '../contenders/raw-message.js';
import { fib } from '../tasks/functions.js';
import { median } from '../lib/stats.js';
import { now, submitAll, withPool } from '../lib/harness.js';

function timeSerial(count, n) {
  const start = now();
  for (let i = 0; i < count; i++) fib(n);
  return now() - start;
}

async function timeParallel(pool, count, n) {
  const start = now();
  await submitAll(pool, count, 'fib', () => n);
  return now() - start;
}

export function cpu({ create, config }) {
  const { cpuTasks: count, fibN: n, workers } = config;
  return withPool(create, (pool) =>
    withPool(
      () => createRaw({ workers }),
      async (raw) => {
        // Warm-up: JIT-compile fib here and in every worker (several tasks reach each of them).
        timeSerial(4, n);
        await timeParallel(pool, 4 * workers, n);
        await timeParallel(raw, 4 * workers, n);
        const serial = [];
        const parallel = [];
        const capacity = [];
        for (let rep = 0; rep < config.cpuReps; rep++) {
          serial.push(timeSerial(count, n));
          // Alternate which pool goes first, so neither always runs right after the serial part.
          const [first, second] = rep % 2 ? [raw, pool] : [pool, raw];
          const times = [await timeParallel(first, count, n), await timeParallel(second, count, n)];
          parallel.push(rep % 2 ? times[1] : times[0]);
          capacity.push(rep % 2 ? times[0] : times[1]);
        }
        const speedup = median(serial) / median(parallel);
        const hardware = median(serial) / median(capacity);
        return { speedup, ofCapacity: speedup / hardware, parallelMs: median(parallel) };
      },
    ),
  );
}
