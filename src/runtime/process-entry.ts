/**
 * The entry script of every child process of a ProcessPoolExecutor. The bootstrap arrives as the
 * first IPC message. A child never outlives its parent: when the IPC channel closes (the parent
 * exited or was killed), it exits too, and a watchdog thread ends it while a task keeps its
 * event loop from hearing that (runtime/parent-watch.ts).
 */
import { encodeError } from '../wire/error-codec.js';
import { Op, type WorkerBootstrap } from '../wire/protocol.js';
import { ipcChannel } from './channels.js';
import { startWorkerRuntime } from './worker-runtime.js';
import { watchParent } from './parent-watch.js';

// First thing: the first call may arrive in the same read as the bootstrap and run before any
// later turn of this thread's event loop. Its thread starts in parallel; this costs ~4 ms here.
watchParent();
process.once('disconnect', () => process.exit(0));
// A result finished just after the parent died goes into a closed channel: Node reports that as
// an 'error' event on `process` (EPIPE), which would be printed as an uncaught exception. There
// is nobody left to send it to; the child is ending anyway.
process.on('error', (error) => {
  const code = (error as { code?: unknown }).code;
  if (code !== 'EPIPE' && code !== 'ECONNRESET' && code !== 'ERR_IPC_CHANNEL_CLOSED') throw error;
});
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
