// Raw worker_threads reference, one message per task: { id, name, arg } in, { id, result } out.
import { parentPort } from 'node:worker_threads';
import * as functions from './functions.js';

parentPort.on('message', ({ id, name, arg }) => {
  if (name === 'stream') {
    // The streamed-results reference: the same items, one message each, no flow control.
    for (let i = 0; i < arg; i++) parentPort.postMessage({ id, chunk: i });
    parentPort.postMessage({ id, result: arg });
  } else if (name === 'echoMove') {
    parentPort.postMessage({ id, result: arg }, [arg]);
  } else {
    parentPort.postMessage({ id, result: functions[name](arg) });
  }
});
