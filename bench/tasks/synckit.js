// synckit worker: one function, called synchronously from the main thread via createSyncFn.
import { runAsWorker } from 'synckit';
import { noop } from './functions.js';

runAsWorker(noop);
