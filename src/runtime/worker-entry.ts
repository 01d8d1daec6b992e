/**
 * The entry script of every worker thread — pool workers and loop threads alike. Its event loop
 * runs freely between calls: timers, I/O and promises started by one task keep going.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import type { WorkerBootstrap } from '../wire/protocol.js';
import { portChannel } from './channels.js';
import { startWorkerRuntime } from './worker-runtime.js';

const { boot, port } = workerData as { boot: WorkerBootstrap; port: MessagePort };
void startWorkerRuntime(portChannel(port), boot);
