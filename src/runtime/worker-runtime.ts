/**
 * What every worker runs, thread or process: the executor's initializer (if any), then a
 * Connection serving the calls that arrive, with `mainLoop()` reaching back over the same
 * connection. The two entry scripts only differ in how they get their channel.
 */
import { encodeError } from '../wire/error-codec.js';
import { Op, type WorkerBootstrap } from '../wire/protocol.js';
import { Slots } from '../wire/slots.js';
import { wakeFrom } from '../wire/wake.js';
import { Connection, type Channel } from './connection.js';
import { Linger } from './linger.js';
import { ClientLoop, LoopClient, reportUncaught } from './loop.js';
import { serveAttached, setMainLoop, type AttachedLoopState } from './loops.js';
import { resolveTask } from './task-registry.js';
import { setReviverLoader } from '../wire/shareable.js';

/** Starts serving on `channel`; reports READY, or FAILED if the initializer throws. */
export async function startWorkerRuntime(channel: Channel, boot: WorkerBootstrap): Promise<void> {
  // Queues and locks are revived only once one arrives here: most workers never see one.
  setReviverLoader(() => import('../shared/index.js'));
  // A caller blocked in resultSync cannot hear the 'exit' event: tell it through shared memory.
  const wakeWorker = wakeFrom(boot.wakeWorker);
  const wakeCaller = wakeFrom(boot.wakeCaller);
  process.once('exit', (code) => {
    wakeWorker?.markExited(code);
    wakeCaller?.bump();
  });
  try {
    if (boot.initializer !== undefined) {
      const fn = await resolveTask(boot.initializer);
      await fn(...boot.initArgs);
    }
  } catch (error) {
    channel.post([Op.Failed, 0, encodeError(error)], []);
    return;
  }
  const linger = wakeWorker === undefined || boot.linger === undefined ? undefined : new Linger(wakeWorker, boot.linger, () => conn.servingCount === 0);
  const toMain = new LoopClient('main', wakeWorker, 'main thread', boot.wakeWorker !== undefined, (e) => reportUncaught(e, 'main'), false);
  const conn: Connection = new Connection(
    channel,
    {
      result: (id, ok, value) => toMain.result(id, ok, value),
      control: (op, value) => (op === Op.Attach ? serveAttached(value as AttachedLoopState) : toMain.control(op)),
    },
    boot.slots === undefined ? undefined : new Slots(boot.slots),
    wakeCaller,
    linger,
  );
  toMain.attach(conn);
  setMainLoop(new ClientLoop(toMain), boot.name);
  conn.control(Op.Ready, 0);
}
