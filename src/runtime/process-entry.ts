/**
 * The entry script of every child process of a ProcessPoolExecutor. The bootstrap arrives as the
 * first IPC message. A child never outlives its parent: when the IPC channel closes (the parent
 * exited or was killed), it exits too.
 */
import type { WorkerBootstrap } from '../wire/protocol.js';
import { ipcChannel } from './channels.js';
import { startWorkerRuntime } from './worker-runtime.js';

process.once('disconnect', () => process.exit(0));
process.once('message', (boot: WorkerBootstrap) => {
  void startWorkerRuntime(ipcChannel(process), boot);
});
