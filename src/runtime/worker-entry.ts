/**
 * The entry script of every worker thread: it runs the executor's initializer, then serves the
 * calls that arrive on its port until it is terminated. Its event loop runs freely between
 * calls — timers, I/O and promises started by one task keep going.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { encodeError } from '../wire/error-codec.js';
import { Op, type WorkerBootstrap } from '../wire/protocol.js';
import { Slots } from '../wire/slots.js';
import { portChannel } from './channels.js';
import { Connection } from './connection.js';
import { resolveTask } from './task-registry.js';

const { boot, port } = workerData as { boot: WorkerBootstrap; port: MessagePort };

async function initialize(): Promise<void> {
  if (boot.initializer === undefined) return;
  const fn = await resolveTask(boot.initializer);
  await fn(...boot.initArgs);
}

initialize().then(
  () => {
    const wake = boot.signal === undefined ? undefined : new Int32Array(boot.signal);
    const slots = boot.slots === undefined ? undefined : new Slots(boot.slots);
    const conn = new Connection(portChannel(port), { result: () => {} }, slots, wake);
    conn.control(Op.Ready, 0);
  },
  (error: unknown) => {
    port.postMessage([Op.Failed, 0, encodeError(error)]);
  },
);
