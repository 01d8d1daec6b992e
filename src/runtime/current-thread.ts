/**
 * `currentThread()`: which thread this is, by name — Python's `threading.current_thread()`.
 */
import { isMainThread, threadId } from 'node:worker_threads';

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

let given: string | undefined;

/** Set by the worker runtime at start. @internal */
export function setThreadName(name: string): void {
  given = name;
}

/**
 * This thread's name and id.
 *
 * @example
 * console.log(`step 1 on ${currentThread().name}`); // 'MainThread', 'images_0', …
 */
export function currentThread(): ThreadInfo {
  return { name: given ?? (isMainThread ? 'MainThread' : `thread-${threadId}`), threadId, isMainThread };
}
