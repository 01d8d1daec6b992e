/**
 * `currentThread()`: which thread this is, by name — Python's `threading.current_thread()`.
 */
import { isMainThread, threadId } from 'node:worker_threads';
import { perThread } from '../wire/thread-state.js';

/** What `currentThread()` tells. */
export interface ThreadInfo {
  /**
   * `'MainThread'` for the main thread; `'<executor name>_<index>'` for a pool's worker (like
   * Python's `ThreadPoolExecutor-0_0`); a loop thread's name; `thread-<threadId>` for a worker
   * threadloop did not start.
   */
  readonly name: string;
  /** Node's `threadId` (0 on a main thread). */
  readonly threadId: number;
  /** Whether this is a process's main thread (a process pool's child is one). */
  readonly isMainThread: boolean;
}

// Per thread, not per copy of threadloop: task code may have loaded another copy than the worker
// runtime that named the thread (wire/thread-state.ts).
const state = perThread('current-thread', 1, () => ({ name: undefined as string | undefined }));

/** Set by the worker runtime at start. @internal */
export function setThreadName(name: string): void {
  state.name = name;
}

/**
 * This thread's name and id.
 *
 * @example
 * console.log(`step 1 on ${currentThread().name}`); // 'MainThread', 'images_0', …
 */
export function currentThread(): ThreadInfo {
  return { name: state.name ?? (isMainThread ? 'MainThread' : `thread-${threadId}`), threadId, isMainThread };
}
