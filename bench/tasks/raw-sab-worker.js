// Raw SharedArrayBuffer ping-pong: no messages at all. The main thread writes an int32 argument
// and flips the state word; this worker spins briefly, then sleeps in Atomics.wait, runs noop and
// flips the state back. It blocks its own event loop for good, which is fine for a reference.
import { workerData } from 'node:worker_threads';
import { noop } from './functions.js';
import { REQUEST, RESPONSE, STATE, STOP, VALUE } from '../lib/sab-protocol.js';

const cells = new Int32Array(workerData.sab);
const { spin } = workerData;

/** Returns the state once it is REQUEST or STOP: spin first (cheap wake-up), then sleep. */
function awaitRequest() {
  for (let i = 0; ; i++) {
    const state = Atomics.load(cells, STATE);
    if (state === REQUEST || state === STOP) return state;
    if (i >= spin) Atomics.wait(cells, STATE, state);
  }
}

while (awaitRequest() === REQUEST) {
  Atomics.store(cells, VALUE, noop(Atomics.load(cells, VALUE)));
  Atomics.store(cells, STATE, RESPONSE);
  Atomics.notify(cells, STATE);
}
