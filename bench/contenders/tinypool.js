// tinypool adapter. Options from the registry (e.g. concurrentTasksPerWorker) pass straight through.
import Tinypool from 'tinypool';

export function create({ workers, options }) {
  const pool = new Tinypool({
    filename: new URL('../tasks/tinypool.js', import.meta.url).href,
    minThreads: workers,
    maxThreads: workers,
    ...options,
  });
  return {
    run: (name, arg, transfer) => pool.run(arg, { name, transferList: transfer }),
    close: () => pool.destroy(),
  };
}
