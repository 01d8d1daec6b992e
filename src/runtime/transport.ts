/**
 * How a pool gets workers: the one thing thread pools and process pools do differently. The
 * scheduler asks a transport to spawn a worker running threadloop's worker runtime, talks to it
 * through the returned channel, and hears once when it is gone.
 */
import type { EndpointExit } from '../core/endpoint.js';
import type { Wake } from '../wire/wake.js';
import type { Channel } from './channels.js';
import type { WorkerBootstrap } from '../wire/protocol.js';

/** Why a worker went away. */
export type WorkerExit = EndpointExit;

/** A worker as the scheduler sees it. */
export interface SpawnedWorker {
  readonly channel: Channel;
  /** `listener` is called once, when the worker is gone for whatever reason. */
  onExit(listener: (exit: WorkerExit) => void): void;
  /** Stops the worker now, even in the middle of a synchronous loop. */
  terminate(): void;
  /**
   * Whether a worker that had started has stopped, asked without the event loop (threads only):
   * a thread blocked in `resultSync` cannot hear 'exit', and a worker that runs out of memory
   * stops without running its own exit handlers.
   */
  stopped?(): boolean;
}

/** Why a worker that `stopped()` without an exit code is gone, as far as anyone can tell. */
export const STOPPED_WITHOUT_EXIT = 'its thread stopped without exiting (it ran out of memory, most likely)';

/**
 * How a thread blocked in `resultSync` (which cannot hear 'exit') tells that a worker is gone:
 * its runtime marks its exit code in `wake` on the way out — but a thread that runs out of memory
 * runs no exit handler, so a thread that has started and now stands stopped is gone too.
 */
export function exitProbe(wake: Wake | undefined, spawned: SpawnedWorker): (() => WorkerExit | undefined) | undefined {
  if (wake === undefined) return undefined;
  return () => {
    const exitCode = wake.exitCode();
    if (exitCode !== undefined) return { exitCode };
    if (wake.started() && spawned.stopped?.() === true) return { error: new Error(STOPPED_WITHOUT_EXIT) };
    return undefined;
  };
}

/** Makes workers of one kind. */
export interface Transport {
  /** What a worker is, for messages: 'worker thread' or 'child process'. */
  readonly kind: string;
  /** Whether workers share memory with this thread (slots, resultSync, Shareables). */
  readonly sharedMemory: boolean;
  /** How long an idle worker spins for its next call before it sleeps (runtime/linger.ts); 0: never. */
  readonly idleSpinMs: number;
  spawn(boot: WorkerBootstrap): SpawnedWorker;
}

/** Flags of this process that name its own entry script or input, with whether a value follows. */
const entryFlags = new Map([
  ['-e', true], ['--eval', true], ['-p', true], ['--print', true], ['--input-type', true],
  ['-i', false], ['--interactive', false], ['-c', false], ['--check', false],
]);

/**
 * The Node.js flags a worker inherits when none are given: this process's, less those about its
 * own entry (`-e`, `--input-type=module`, …), which would break the worker's. Loader flags such
 * as `--import tsx` stay, so TypeScript task modules load in workers as in the app.
 * Undefined when nothing needs dropping: a worker thread then inherits the flags itself, which
 * Node allows even for per-process flags it would refuse if they were passed explicitly.
 */
export function inheritedExecArgv(): string[] | undefined {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    const takesValue = entryFlags.get(name);
    if (takesValue === undefined) out.push(arg);
    else if (takesValue && !arg.includes('=')) i++; // skip its value too
  }
  return out.length === argv.length ? undefined : out;
}
