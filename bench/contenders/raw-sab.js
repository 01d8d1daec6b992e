// Raw SharedArrayBuffer ping-pong reference (one worker, int32 arguments only): the floor for a
// call into another thread. The caller spins briefly, then sleeps: Atomics.wait when blocking
// (runSync), Atomics.waitAsync when awaiting (run).
import { Worker } from 'node:worker_threads';
import { CELLS, IDLE, REQUEST, RESPONSE, SPIN, STATE, STOP, VALUE } from '../lib/sab-protocol.js';

export async function create() {
  const sab = new SharedArrayBuffer(CELLS * Int32Array.BYTES_PER_ELEMENT);
  const cells = new Int32Array(sab);
  const worker = new Worker(new URL('../tasks/raw-sab-worker.js', import.meta.url), {
    workerData: { sab, spin: SPIN },
  });

  function request(arg) {
    Atomics.store(cells, VALUE, arg);
    Atomics.store(cells, STATE, REQUEST);
    Atomics.notify(cells, STATE);
  }

  /** Spins until the worker answered; returns false if it had not answered within SPIN polls. */
  function spinForResponse() {
    for (let i = 0; i < SPIN; i++) if (Atomics.load(cells, STATE) === RESPONSE) return true;
    return false;
  }

  function takeResponse() {
    const value = Atomics.load(cells, VALUE);
    Atomics.store(cells, STATE, IDLE);
    return value;
  }

  return {
    async run(_name, arg) {
      request(arg);
      while (!spinForResponse()) {
        const wait = Atomics.waitAsync(cells, STATE, REQUEST);
        if (wait.async) await wait.value;
      }
      return takeResponse();
    },
    runSync(_name, arg) {
      request(arg);
      while (!spinForResponse()) Atomics.wait(cells, STATE, REQUEST);
      return takeResponse();
    },
    async close() {
      Atomics.store(cells, STATE, STOP);
      Atomics.notify(cells, STATE);
      await worker.terminate();
    },
    notes: ['one worker, int32 argument, no message passing'],
  };
}
