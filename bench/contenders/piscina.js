// piscina adapter. Options from the registry (e.g. concurrentTasksPerWorker) pass straight through.
import Piscina from 'piscina';

export function create({ workers, options }) {
  const pool = new Piscina({
    filename: new URL('../tasks/piscina.js', import.meta.url).href,
    minThreads: workers,
    maxThreads: workers,
    ...options,
  });
  return {
    run: (name, arg, transfer) => pool.run(arg, { name, transferList: transfer }),
    close: () => pool.destroy(),
  };
}
