/** Workers as worker threads: the transport of ThreadPoolExecutor. */
import { MessageChannel, Worker, type ResourceLimits } from 'node:worker_threads';
import { makeLanes, portChannel, workerDepth } from './channels.js';
import type { WorkerBootstrap } from '../wire/protocol.js';
import { inheritedExecArgv, type SpawnedWorker, type Transport, type WorkerExit } from './transport.js';

/**
 * The worker runtime's entry script, in dist/runtime/. The path is relative to this folder (src/runtime/):
 * scripts/build.mjs re-makes it for the bundled file this code ends up in.
 */
export const defaultWorkerEntry = new URL('../runtime/worker-entry.js', import.meta.url);

export interface ThreadTransportOptions {
  entry: URL | string;
  env: Record<string, string | undefined> | undefined;
  execArgv: string[] | undefined;
  resourceLimits: ResourceLimits | undefined;
  idleSpinMs: number;
}

export function threadTransport(options: ThreadTransportOptions): Transport {
  return {
    kind: 'worker thread',
    sharedMemory: true,
    idleSpinMs: options.idleSpinMs,
    spawn(boot: WorkerBootstrap): SpawnedWorker {
      const { port1, port2 } = new MessageChannel();
      const lanes = makeLanes();
      const worker = new Worker(options.entry, {
        workerData: { boot, port: port2, lanes: lanes.there },
        transferList: [port2],
        env: options.env === undefined ? process.env : { ...options.env },
        execArgv: options.execArgv ?? inheritedExecArgv(),
        resourceLimits: options.resourceLimits,
        name: boot.name,
        stdout: false,
        stderr: false,
      } as ConstructorParameters<typeof Worker>[1]);
      // An idle worker must never keep the process alive; busy ones are kept alive by the port.
      worker.unref();
      let error: unknown;
      worker.on('error', (e) => (error = e));
      const port = portChannel(port1, workerDepth(options.resourceLimits?.stackSizeMb), lanes.here);
      return {
        channel: {
          ...port,
          // While busy, hold the Worker too: a dying worker's port may close before its 'exit'
          // event, and the process must not end before the tasks it ran are settled.
          ref: () => {
            port.ref();
            worker.ref();
          },
          unref: () => {
            port.unref();
            worker.unref();
          },
        },
        onExit(listener: (exit: WorkerExit) => void) {
          worker.once('exit', (exitCode) => {
            port1.close();
            listener({ exitCode, error });
          });
        },
        terminate() {
          void worker.terminate();
        },
        stopped: stoppedProbe(worker),
      };
    },
  };
}

/**
 * Whether a worker thread has stopped, asked without the event loop: its loop idle time reads -1
 * once it has (node's Worker::LoopIdleTime). `worker.performance.eventLoopUtilization()` reads it
 * only once this thread's event loop has seen the worker come online — never, for a worker spawned
 * just before this thread blocked in resultSync — so the worker's native handle is asked directly
 * where Node has one, and the public method otherwise.
 */
function stoppedProbe(worker: Worker): (() => boolean) | undefined {
  const key = Object.getOwnPropertySymbols(worker).find((symbol) => symbol.description === 'kHandle');
  const handle = key === undefined ? undefined : (worker as unknown as Record<symbol, { loopIdleTime?: () => number } | null>)[key];
  if (typeof handle?.loopIdleTime === 'function') return () => handle.loopIdleTime!() === -1;
  // Deno 2.9 has no worker.performance.eventLoopUtilization (denoland/deno#35150): no such check there.
  if (typeof worker.performance?.eventLoopUtilization !== 'function') return undefined;
  return () => worker.performance.eventLoopUtilization().idle === -1;
}
