// workerpool adapter: a fixed pool of worker threads running registered methods.
import workerpool from 'workerpool';
import { fileURLToPath } from 'node:url';

export function create({ workers, options }) {
  const pool = workerpool.pool(fileURLToPath(new URL('../tasks/workerpool.js', import.meta.url)), {
    workerType: 'thread',
    minWorkers: workers,
    maxWorkers: workers,
    ...options,
  });
  return {
    run: (name, arg, transfer) => pool.exec(name, [arg], transfer ? { transfer } : undefined),
    close: () => pool.terminate(),
  };
}
