// Raw worker_threads reference, one message per batch: { id, calls: [[name, arg], ...] } in,
// { id, results: [...] } out, in the same order.
import { parentPort } from 'node:worker_threads';
import * as functions from './functions.js';

parentPort.on('message', ({ id, calls }) => {
  const results = calls.map(([name, arg]) => functions[name](arg));
  parentPort.postMessage({ id, results });
});
