/**
 * ProcessPoolExecutor: the same executor over child processes — for code that cannot run in a
 * worker thread (native addons that are not thread-safe, `process.chdir`, process-wide state), or
 * whose crash or leak must not touch the main process.
 */
import { statSync } from 'node:fs';
import { describe } from '../core/future.js';
import { resolveOptions, type ExecutorOptions } from '../core/executor.js';
import { PoolExecutor } from './pool-executor.js';
import { defaultProcessEntry, processTransport } from '../runtime/process-transport.js';

/** Options of ProcessPoolExecutor. */
export interface ProcessPoolOptions extends ExecutorOptions {
  /** Working directory of the children. Default: the parent's. */
  cwd?: string | undefined;
  /** The child runtime's entry script, for bundled apps that move threadloop's files. */
  processEntry?: URL | string | undefined;
}

/**
 * A pool of child processes. Tasks, futures, errors, cancellation, timeouts and backpressure work
 * as with ThreadPoolExecutor. A child that dies fails only the task it was running and is
 * replaced. Children never outlive the parent. Shared-memory primitives cannot be sent to a
 * child, and `resultSync()` is not available (results arrive through the event loop).
 *
 * @example
 * await using pool = new ProcessPoolExecutor({ maxWorkers: 2 });
 * const png = await pool.submit(legacy.render, svg); // a non-thread-safe native addon
 */
export class ProcessPoolExecutor extends PoolExecutor {
  constructor(options: ProcessPoolOptions = {}) {
    const resolved = resolveOptions('ProcessPoolExecutor', options, ['cwd', 'processEntry']);
    const { cwd, processEntry = defaultProcessEntry } = options;
    if (cwd !== undefined && typeof cwd !== 'string') throw new TypeError(`ProcessPoolExecutor: cwd must be a string, got ${describe(cwd)}`);
    // Checked here: a child spawned in a missing directory fails with "spawn <node> ENOENT",
    // which blames Node.js, and only at the first submit.
    if (cwd !== undefined && !isDirectory(cwd)) throw new TypeError(`ProcessPoolExecutor: cwd '${cwd}' is not a directory`);
    if (!(processEntry instanceof URL) && typeof processEntry !== 'string') {
      throw new TypeError(`ProcessPoolExecutor: processEntry must be a URL or a path, got ${describe(processEntry)}`);
    }
    super(resolved, processTransport({ entry: processEntry, env: resolved.env, execArgv: resolved.execArgv, cwd }));
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
