// Start and stop the plain worker_threads used by the raw references.
import { Worker } from 'node:worker_threads';

export function startWorkers(url, count, workerData) {
  return Array.from({ length: count }, () => new Worker(url, { workerData }));
}

export async function stopWorkers(threads) {
  await Promise.all(threads.map((worker) => worker.terminate()));
}
