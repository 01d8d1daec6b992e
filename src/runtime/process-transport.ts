/** Workers as child processes: the transport of ProcessPoolExecutor. */
import type * as ChildProcessModule from 'node:child_process';
import { createRequire } from 'node:module';
import { ipcChannel } from './channels.js';
import type { WorkerBootstrap } from '../wire/protocol.js';
import { inheritedExecArgv, type SpawnedWorker, type Transport, type WorkerExit } from './transport.js';

/**
 * The child runtime's entry script, in dist/runtime/. The path is relative to this folder (src/runtime/):
 * scripts/build.mjs re-makes it for the bundled file this code ends up in.
 */
export const defaultProcessEntry = new URL('../runtime/process-entry.js', import.meta.url);

// node:child_process (and the net, dgram and stream code it brings) is loaded at the first spawn,
// not in every thread that imports threadloop: that is ~1 ms off each worker's start.
let childProcess: typeof ChildProcessModule | undefined;
const requireBuiltin = createRequire(import.meta.url);

export interface ProcessTransportOptions {
  entry: URL | string;
  env: Record<string, string | undefined> | undefined;
  execArgv: string[] | undefined;
  cwd: string | undefined;
}

export function processTransport(options: ProcessTransportOptions): Transport {
  return {
    kind: 'child process',
    sharedMemory: false,
    idleSpinMs: 0, // nothing to watch without shared memory
    spawn(boot: WorkerBootstrap): SpawnedWorker {
      childProcess ??= requireBuiltin('node:child_process') as typeof ChildProcessModule;
      const child = childProcess.fork(options.entry, [], {
        serialization: 'advanced',
        env: options.env === undefined ? process.env : { ...options.env },
        execArgv: options.execArgv ?? inheritedExecArgv(),
        cwd: options.cwd,
        // The child's output goes straight to ours.
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      // An idle child must never keep the parent alive; busy ones are kept alive by the channel.
      child.unref();
      child.channel?.unref?.();
      child.send(boot);
      let error: unknown;
      let exited = false;
      const listeners: ((exit: WorkerExit) => void)[] = [];
      const done = (exit: WorkerExit) => {
        if (exited) return;
        exited = true;
        for (const listener of listeners) listener(exit);
      };
      child.on('error', (e) => {
        error = e;
        // A child that could not be spawned at all never emits 'exit'.
        if (child.pid === undefined) done({ error: e });
      });
      child.once('exit', (exitCode, signal) => done({ exitCode: exitCode ?? undefined, signal: signal ?? undefined, error }));
      return {
        channel: ipcChannel(child),
        onExit: (listener) => listeners.push(listener),
        terminate: () => child.kill('SIGKILL'),
      };
    },
  };
}
