// Raw worker_threads reference, one message per task, sent to the worker with the fewest tasks in
// flight. This is what a minimal hand-written pool costs; it is the "raw" ratio in most tables.
import { startWorkers, stopWorkers } from '../lib/raw-workers.js';

export async function create({ workers }) {
  const threads = startWorkers(new URL('../tasks/raw-message-worker.js', import.meta.url), workers);
  const pending = new Map();
  const inFlight = threads.map(() => 0);
  /** Chunks received so far, by the id of the 'stream' call sending them. */
  const chunks = new Map();
  let nextId = 0;

  threads.forEach((worker, index) => {
    worker.on('message', ({ id, result, chunk }) => {
      if (chunk !== undefined) {
        chunks.set(id, chunks.get(id) + (chunk === chunks.get(id) ? 1 : 0));
        return;
      }
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
    /** The items of a streamed task, one message each; resolves with how many arrived. */
    async drainStream(n) {
      const id = nextId;
      chunks.set(id, 0);
      await this.run('stream', n);
      const received = chunks.get(id);
      chunks.delete(id);
      return received;
    },
    close: () => stopWorkers(threads),
  };
}
