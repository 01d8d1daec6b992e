/**
 * ThreadPoolExecutor: a pool of worker threads — Python's `ThreadPoolExecutor`, except that
 * JavaScript threads run in parallel (there is no GIL) and a running task can really be stopped.
 */
import { describe } from './future.js';
import { resolveOptions, type ThreadPoolOptions } from './executor.js';
import { PoolExecutor } from './pool-executor.js';
import { defaultWorkerEntry, threadTransport } from './thread-transport.js';

/**
 * A pool of worker threads that run tasks in parallel with the main thread.
 *
 * @example
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 4 });
 * const hashes = await Promise.all(files.map((f) => pool.submit(crypto.sha256File, f)));
 */
export class ThreadPoolExecutor extends PoolExecutor {
  constructor(options: ThreadPoolOptions = {}) {
    const resolved = resolveOptions('ThreadPoolExecutor', options, ['resourceLimits', 'workerEntry']);
    const { resourceLimits, workerEntry = defaultWorkerEntry } = options;
    if (resourceLimits !== undefined && (typeof resourceLimits !== 'object' || resourceLimits === null)) {
      throw new TypeError(`ThreadPoolExecutor: resourceLimits must be an object, got ${describe(resourceLimits)}`);
    }
    if (!(workerEntry instanceof URL) && typeof workerEntry !== 'string') {
      throw new TypeError(`ThreadPoolExecutor: workerEntry must be a URL or a path, got ${describe(workerEntry)}`);
    }
    super(resolved, threadTransport({ entry: workerEntry, env: resolved.env, execArgv: resolved.execArgv, resourceLimits }));
  }
}
