/**
 * The entry script of every child process of a ProcessPoolExecutor. The bootstrap arrives as the
 * first IPC message. A child never outlives its parent: when the IPC channel closes (the parent
 * exited or was killed), it exits too.
 */
import { encodeError } from '../wire/error-codec.js';
import { Op, type WorkerBootstrap } from '../wire/protocol.js';
import { ipcChannel } from './channels.js';
import { startWorkerRuntime } from './worker-runtime.js';

process.once('disconnect', () => process.exit(0));
process.once('message', (boot: WorkerBootstrap) => {
  // Made now, so calls sent while the initializer runs are kept for the runtime.
  const channel = ipcChannel(process);
  void startWorkerRuntime(channel, boot);
  // Die of an uncaught error as Node would (report it, exit 1), but tell the parent why first:
  // unlike a worker thread's 'error' event, nothing else would carry the error across.
  process.on('uncaughtException', (error) => {
    console.error(error);
    process.send!([Op.Dying, 0, encodeError(error)], () => process.exit(1));
  });
});
