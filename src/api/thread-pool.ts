/**
 * ThreadPoolExecutor: a pool of worker threads — Python's `ThreadPoolExecutor`, except that
 * JavaScript threads run in parallel (there is no GIL) and a running task can really be stopped.
 */
import { describe } from '../core/future.js';
import { resolveOptions, type ThreadPoolOptions } from '../core/executor.js';
import { PoolExecutor } from './pool-executor.js';
import { defaultWorkerEntry, threadTransport } from '../runtime/thread-transport.js';

const limitKeys = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'];

/** Validates `resourceLimits` field by field. @internal */
export function checkResourceLimits(limits: unknown, owner = 'ThreadPoolExecutor'): void {
  if (limits === undefined) return;
  if (typeof limits !== 'object' || limits === null) throw new TypeError(`${owner}: resourceLimits must be an object, got ${describe(limits)}`);
  for (const [key, value] of Object.entries(limits)) {
    if (!limitKeys.includes(key)) throw new TypeError(`${owner}: unknown resourceLimits field '${key}' (known: ${limitKeys.join(', ')})`);
    if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`${owner}: resourceLimits.${key} must be a number, got ${describe(value)}`);
    if (value <= 0 || value === Infinity) throw new RangeError(`${owner}: resourceLimits.${key} must be a finite number > 0, got ${value}`);
  }
}

/**
 * A pool of worker threads that run tasks in parallel with the main thread.
 *
 * @example
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 4 });
 * const hashes = await Promise.all(files.map((f) => pool.submit(crypto.sha256File, f)));
 */
export class ThreadPoolExecutor extends PoolExecutor {
  constructor(options: ThreadPoolOptions = {}) {
    const resolved = resolveOptions('ThreadPoolExecutor', options, ['resourceLimits', 'workerEntry', 'idleSpinMs']);
    const { resourceLimits, workerEntry = defaultWorkerEntry, idleSpinMs = 0.1 } = options;
    checkResourceLimits(resourceLimits);
    if (!(workerEntry instanceof URL) && typeof workerEntry !== 'string') {
      throw new TypeError(`ThreadPoolExecutor: workerEntry must be a URL or a path, got ${describe(workerEntry)}`);
    }
    if (typeof idleSpinMs !== 'number' || Number.isNaN(idleSpinMs)) {
      throw new TypeError(`ThreadPoolExecutor: idleSpinMs must be a number of milliseconds, got ${describe(idleSpinMs)}`);
    }
    if (idleSpinMs < 0 || idleSpinMs > 1) throw new RangeError(`ThreadPoolExecutor: idleSpinMs must be between 0 and 1, got ${idleSpinMs}`);
    super(resolved, threadTransport({ entry: workerEntry, env: resolved.env, execArgv: resolved.execArgv, resourceLimits, idleSpinMs }));
  }
}
