/**
 * How a pool gets workers: the one thing thread pools and process pools do differently. The
 * scheduler asks a transport to spawn a worker running threadloop's worker runtime, talks to it
 * through the returned channel, and hears once when it is gone.
 */
import type { Channel } from '../runtime/connection.js';
import type { WorkerBootstrap } from '../wire/protocol.js';

/** Why a worker went away. */
export interface WorkerExit {
  /** The exit code, when it exited. */
  exitCode?: number;
  /** The signal that killed it (child processes). */
  signal?: string;
  /** The uncaught error that ended it, if any. */
  error?: unknown;
}

/** A worker as the scheduler sees it. */
export interface SpawnedWorker {
  readonly channel: Channel;
  /** `listener` is called once, when the worker is gone for whatever reason. */
  onExit(listener: (exit: WorkerExit) => void): void;
  /** Stops the worker now, even in the middle of a synchronous loop. */
  terminate(): void;
}

/** Makes workers of one kind. */
export interface Transport {
  /** What a worker is, for messages: 'worker thread' or 'child process'. */
  readonly kind: string;
  /** Whether workers share memory with this thread (slots, resultSync, Shareables). */
  readonly sharedMemory: boolean;
  spawn(boot: WorkerBootstrap): SpawnedWorker;
}
