/**
 * What every worker runs, thread or process: the executor's initializer (if any), then a
 * Connection serving the calls that arrive, with `mainLoop()` reaching back over the same
 * connection. The two entry scripts only differ in how they get their channel.
 */
import { encodeError } from '../wire/error-codec.js';
import { Op, type WorkerBootstrap } from '../wire/protocol.js';
import { Slots } from '../wire/slots.js';
import { wakeFrom } from '../wire/wake.js';
import { Connection } from './connection.js';
import type { Channel } from './channels.js';
import { Linger } from './linger.js';
import { ClientLoop, LoopClient, reportUncaught } from './loop.js';
import { serveAttached, setMainLoop, type AttachedLoopState } from './loops.js';
import { resolveTask } from './task-registry.js';
import { setThreadName } from './current-thread.js';
import { setReviverLoader } from '../wire/shareable.js';

/** Starts serving on `channel`; reports READY, or FAILED if the initializer throws. */
export async function startWorkerRuntime(channel: Channel, boot: WorkerBootstrap): Promise<void> {
  // Queues and locks are revived only once one arrives here: most workers never see one.
  setReviverLoader(() => import('../shared/index.js'));
  // A caller blocked in resultSync cannot hear the 'exit' event: tell it through shared memory.
  const wakeWorker = wakeFrom(boot.wakeWorker);
  const wakeCaller = wakeFrom(boot.wakeCaller);
  wakeWorker?.markStarted();
  let flushOnExit = (): void => {};
  process.once('exit', (code) => {
    // Results finished before a task called process.exit() (or threw at the top level) may wait
    // in the outbox: they go out now, so only the call that was running is lost with the thread.
    flushOnExit();
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
  const conn: Connection = new Connection(
    channel,
    {
      result: (id, ok, value) => toMain.result(id, ok, value),
      control: (op, value) => (op === Op.Attach ? serveAttached(value as AttachedLoopState) : toMain.control()),
    },
    boot.slots === undefined ? undefined : new Slots(boot.slots),
    wakeCaller,
    linger,
  );
  // The main loop, over the same connection. The worker lives as long as its pool wants it, so
  // calls out need not hold it open.
  const toMain: LoopClient = new LoopClient({
    name: 'main',
    where: 'main thread',
    sender: conn,
    slots: boot.backSlots === undefined ? undefined : new Slots(boot.backSlots),
    wake: wakeWorker,
    keepAlive: undefined,
    report: (e) => reportUncaught(e, 'main'),
  });
  setMainLoop(new ClientLoop(toMain), boot.name);
  setThreadName(boot.name);
  flushOnExit = () => conn.flush();
  conn.control(Op.Ready, 0);
}
