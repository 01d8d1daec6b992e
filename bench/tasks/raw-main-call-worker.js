// Raw reference of a worker blocking on a call into the main thread: post the argument to the
// main thread, then Atomics.wait on a shared cell until the main thread's message handler has
// stored the result and notified (contenders/raw-message.js). The main thread runs its event
// loop freely, as threadloop's does while a worker blocks on mainLoop().
import { parentPort, workerData } from 'node:worker_threads';
import { timedBlockingCalls } from '../lib/harness.js';

const cells = new Int32Array(workerData.sab); // [0] answers so far, [1] the last answer

let answered = 0;
function call(arg) {
  parentPort.postMessage(arg);
  while (Atomics.load(cells, 0) === answered) Atomics.wait(cells, 0, answered);
  answered = Atomics.load(cells, 0);
  return Atomics.load(cells, 1);
}

parentPort.postMessage({ done: timedBlockingCalls(call, workerData) });
