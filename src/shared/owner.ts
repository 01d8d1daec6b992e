/**
 * Who holds a lock: every thread's owner token, written into a primitive's shared state by the
 * thread that takes it.
 *
 * The token is the thread's `threadId` plus one (0 means "nobody"). Node never gives two threads
 * of a process the same `threadId`, not even after one has ended, and shared memory cannot leave
 * the process, so the token names exactly one thread for the life of the process — a token that
 * folds thread ids together (as `threadId % 0x7fff` once did) takes a worker for another thread.
 * Read when the module loads: a thread's `threadId` never changes.
 */
import { threadId } from 'node:worker_threads';

/**
 * This thread's owner token: nonzero, and distinct from every other thread's in this process
 * (thread ids below 2^32 - 1, so every thread a process can start).
 *
 * @example
 * ```ts
 * if (Atomics.compareExchange(i32, OWNER, 0, THREAD_TOKEN) === 0) { held(); }
 * ```
 */
export const THREAD_TOKEN: number = (threadId + 1) | 0;
