/**
 * The entry script of every worker thread — pool workers and loop threads alike. Its event loop
 * runs freely between calls: timers, I/O and promises started by one task keep going.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import type { WorkerBootstrap } from '../wire/protocol.js';
import { MAX_DEPTH } from '../wire/clone-check.js';
import { lanesFrom, portChannel } from './channels.js';
import { startWorkerRuntime } from './worker-runtime.js';

const { boot, port, lanes } = workerData as { boot: WorkerBootstrap; port: MessagePort; lanes?: [SharedArrayBuffer, SharedArrayBuffer] };
// The parent may be a main thread, which rebuilds less deeply nested values than this thread sends.
void startWorkerRuntime(portChannel(port, MAX_DEPTH.mainThread, lanesFrom(lanes)), boot);
