// Raw worker_threads reference, one message per task, sent to the worker with the fewest tasks in
// flight. This is what a minimal hand-written pool costs; it is the "raw" ratio in most tables.
import { Worker } from 'node:worker_threads';
import { noop } from '../tasks/functions.js';
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
    /**
     * The raw reference of a worker blocking on calls into this thread: the worker posts, then
     * waits on a shared cell that this thread's message handler sets (tasks/raw-main-call-worker.js).
     */
    syncFromWorker({ warmup, warmupMs, calls }) {
      const sab = new SharedArrayBuffer(8);
      const cells = new Int32Array(sab);
      const caller = new Worker(new URL('../tasks/raw-main-call-worker.js', import.meta.url), { workerData: { sab, warmup, warmupMs, calls } });
      return new Promise((resolve, reject) => {
        caller.on('error', reject);
        caller.on('message', (message) => {
          if (typeof message === 'object') {
            void caller.terminate();
            resolve(message.done);
            return;
          }
          Atomics.store(cells, 1, noop(message));
          Atomics.add(cells, 0, 1);
          Atomics.notify(cells, 0);
        });
      });
    },
    close: () => stopWorkers(threads),
  };
}
