// Raw worker_threads reference, one message per batch: every call made until the event loop
// next turns is collected, then flushed as one message per worker. This is the ceiling for
// dispatching many tiny tasks, which the no-op targets compare against.
import { startWorkers, stopWorkers } from '../lib/raw-workers.js';

export async function create({ workers }) {
  const threads = startWorkers(new URL('../tasks/raw-batch-worker.js', import.meta.url), workers);
  const batches = new Map();
  const inFlight = threads.map(() => 0);
  let nextId = 0;
  let queued = [];

  threads.forEach((worker, index) => {
    worker.on('message', ({ id, results }) => {
      const resolvers = batches.get(id);
      batches.delete(id);
      inFlight[index] -= results.length;
      for (let i = 0; i < results.length; i++) resolvers[i](results[i]);
    });
  });

  function leastBusy() {
    let best = 0;
    for (let i = 1; i < inFlight.length; i++) if (inFlight[i] < inFlight[best]) best = i;
    return best;
  }

  // Each call goes to the worker with the fewest tasks in flight, so the workers stay evenly
  // loaded and a small batch goes whole to one worker instead of being split ever thinner.
  function flush() {
    const slices = threads.map(() => []);
    for (const call of queued) {
      const index = leastBusy();
      inFlight[index]++;
      slices[index].push(call);
    }
    queued = [];
    slices.forEach((slice, index) => {
      if (slice.length === 0) return;
      const id = nextId++;
      batches.set(id, slice.map((call) => call.resolve));
      threads[index].postMessage({ id, calls: slice.map((call) => [call.name, call.arg]) });
    });
  }

  return {
    run(name, arg) {
      // setImmediate, not a microtask: replies that arrive together are all handled (and their
      // follow-up calls queued) before the flush, so batches stay large under a sliding window.
      if (queued.length === 0) setImmediate(flush);
      return new Promise((resolve) => queued.push({ name, arg, resolve }));
    },
    close: () => stopWorkers(threads),
  };
}
