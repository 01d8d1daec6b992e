/**
 * Cross-thread primitives: queues and locks in shared memory, usable from every thread, with an
 * async side (never blocks an event loop) and a blocking `…Sync` side (for worker threads).
 * Importing this module registers their revivers, so they arrive live when passed between
 * threads.
 */
export { ThreadQueue, type ThreadQueueOptions, type PutOptions, type TryGetResult } from './shared-queue.js';
export { Mutex, type LockGuard } from './mutex.js';
export { RLock } from './rlock.js';
export { Semaphore, BoundedSemaphore } from './semaphore.js';
export { Condition } from './condition.js';
export { ThreadEvent } from './thread-event.js';
export { Barrier, type BarrierOptions } from './barrier.js';
export { LockNotOwnedError } from './errors.js';
export type { WaitOptions as SharedWaitOptions, SyncWaitOptions as SharedSyncWaitOptions } from './wait.js';
