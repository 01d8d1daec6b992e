// Raw worker_threads reference, one message per task, sent to the worker with the fewest tasks in
// flight. This is what a minimal hand-written pool costs; it is the "raw" ratio in most tables.
import { startWorkers, stopWorkers } from '../lib/raw-workers.js';

export async function create({ workers }) {
  const threads = startWorkers(new URL('../tasks/raw-message-worker.js', import.meta.url), workers);
  const pending = new Map();
  const inFlight = threads.map(() => 0);
  let nextId = 0;

  threads.forEach((worker, index) => {
    worker.on('message', ({ id, result }) => {
      inFlight[index]--;
      pending.get(id)(result);
      pending.delete(id);
    });
  });

  function leastBusy() {
    let best = 0;
    for (let i = 1; i < inFlight.length; i++) if (inFlight[i] < inFlight[best]) best = i;
    return best;
  }

  return {
    run(name, arg, transfer) {
      const id = nextId++;
      const index = leastBusy();
      inFlight[index]++;
      threads[index].postMessage({ id, name, arg }, transfer);
      return new Promise((resolve) => pending.set(id, resolve));
    },
    close: () => stopWorkers(threads),
  };
}
