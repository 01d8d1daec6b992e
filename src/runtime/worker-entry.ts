/**
 * The entry script of every worker thread — pool workers and loop threads alike: it runs the
 * initializer, if any, then serves the calls that arrive on its port until it is terminated. Its
 * event loop runs freely between calls: timers, I/O and promises started by one task keep going.
 * Over the same connection it can call back into the main thread's loop (`mainLoop()`).
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { encodeError } from '../wire/error-codec.js';
import { Op, type WorkerBootstrap } from '../wire/protocol.js';
import { Slots } from '../wire/slots.js';
import { wakeFrom } from '../wire/wake.js';
import { portChannel } from './channels.js';
import { Connection } from './connection.js';
import { ClientLoop, LoopClient, reportUncaught } from './loop.js';
import { setMainLoop } from './loops.js';
import { resolveTask } from './task-registry.js';
import '../shared/index.js'; // so Shareables (queues, locks) sent here can be revived

const { boot, port } = workerData as { boot: WorkerBootstrap; port: MessagePort };

async function initialize(): Promise<void> {
  if (boot.initializer === undefined) return;
  const fn = await resolveTask(boot.initializer);
  await fn(...boot.initArgs);
}

initialize().then(
  () => {
    const toMain = new LoopClient('main', wakeFrom(boot.wakeWorker), 'main thread', (e) => reportUncaught(e, 'main'), false);
    const slots = boot.slots === undefined ? undefined : new Slots(boot.slots);
    const conn: Connection = new Connection(
      portChannel(port),
      {
        result: (id, ok, value) => toMain.result(id, ok, value),
        control: (op, value) => toMain.control(op, value),
        // A fire-and-forget call from the caller threw here: the caller's side reports it.
        uncaught: (error) => conn.control(Op.Uncaught, encodeError(error)),
      },
      slots,
      wakeFrom(boot.wakeCaller),
    );
    toMain.attach(conn);
    setMainLoop(new ClientLoop(toMain), boot.name);
    conn.control(Op.Ready, 0);
  },
  (error: unknown) => {
    port.postMessage([Op.Failed, 0, encodeError(error)]);
  },
);
