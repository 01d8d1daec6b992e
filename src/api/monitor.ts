/**
 * `monitorLoopBlocking`: asyncio debug mode's "slow callback" warning, for Node.js. It tells you
 * when something held the event loop longer than a threshold — the code to move to a thread.
 *
 * How: a watchdog timer fires every `thresholdMs / 4`. When the loop is blocked the timer fires
 * late, and the lateness is how long the loop was held, give or take one check period (it is
 * reported as a lower bound). The timer is unref'd, so it never keeps the process alive.
 */
import { describe } from '../core/future.js';

/** What `monitorLoopBlocking` reports about one block. */
export interface LoopBlockedInfo {
  /** How long the event loop was blocked, in milliseconds (at least; see `monitorLoopBlocking`). */
  readonly blockedMs: number;
  /** When the block was noticed (just after it ended). */
  readonly at: Date;
  /** The threshold it exceeded. */
  readonly thresholdMs: number;
}

/** Options of `monitorLoopBlocking`. */
export interface LoopMonitorOptions {
  /** Report blocks longer than this many milliseconds. Default 100 (asyncio's `slow_callback_duration`). */
  thresholdMs?: number | undefined;
  /**
   * Called for each block. Default: `process.emitWarning` with the code
   * `THREADLOOP_LOOP_BLOCKED`. It runs in a timer callback, so an error it throws is an
   * uncaught exception, like any other.
   */
  onBlocked?: ((info: LoopBlockedInfo) => void) | undefined;
}

/** A running monitor: stop it with `stop()`, or `using` it. */
export interface LoopMonitor extends Disposable {
  /** Stops watching. Idempotent. */
  stop(): void;
}

/** The `code` of the warnings `monitorLoopBlocking` emits by default. */
export const LOOP_BLOCKED_WARNING = 'THREADLOOP_LOOP_BLOCKED';

/**
 * Watches the calling thread's event loop and reports each time it was blocked for longer than
 * `thresholdMs` — by default as a process warning, or to `onBlocked`. Works on any thread (the
 * main one or a worker). Blocks are measured from a watchdog timer, so `blockedMs` is a lower
 * bound that may miss up to `thresholdMs / 4`; a block shorter than about 1.25 × `thresholdMs`
 * may go unreported. The monitor never keeps the process alive.
 *
 * @example
 * // Log what blocks the loop for more than 50 ms, and find what to move to toThread().
 * using monitor = monitorLoopBlocking({
 *   thresholdMs: 50,
 *   onBlocked: ({ blockedMs, at }) => console.warn(`${at.toISOString()} loop blocked for ${blockedMs.toFixed(0)} ms`),
 * });
 *
 * @example
 * // Default: a warning, printed as
 * // (node:1234) [THREADLOOP_LOOP_BLOCKED] Warning: the event loop was blocked for 312 ms ...
 * const monitor = monitorLoopBlocking({ thresholdMs: 100 });
 * // ...
 * monitor.stop();
 */
export function monitorLoopBlocking(options: LoopMonitorOptions = {}): LoopMonitor {
  const { thresholdMs, onBlocked } = checkOptions(options);
  const report = onBlocked ?? emitBlockedWarning;
  const periodMs = Math.max(1, thresholdMs / 4);
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const blockedMs = now - last - periodMs;
    last = now;
    if (blockedMs >= thresholdMs) report({ blockedMs, at: new Date(), thresholdMs });
  }, periodMs);
  timer.unref();
  const stop = (): void => clearInterval(timer);
  return { stop, [Symbol.dispose]: stop };
}

function emitBlockedWarning({ blockedMs, thresholdMs }: LoopBlockedInfo): void {
  process.emitWarning(
    `the event loop was blocked for ${Math.round(blockedMs)} ms (threshold ${thresholdMs} ms); ` +
      'move the blocking work to a thread, e.g. with toThread()',
    { code: LOOP_BLOCKED_WARNING },
  );
}

function checkOptions(options: LoopMonitorOptions): { thresholdMs: number; onBlocked: LoopMonitorOptions['onBlocked'] } {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`monitorLoopBlocking: options must be an object, got ${describe(options)}`);
  }
  const { thresholdMs = 100, onBlocked } = options;
  if (typeof thresholdMs !== 'number' || Number.isNaN(thresholdMs)) {
    throw new TypeError(`monitorLoopBlocking: thresholdMs must be a number of milliseconds, got ${describe(thresholdMs)}`);
  }
  if (!(thresholdMs > 0) || !Number.isFinite(thresholdMs)) {
    throw new RangeError(`monitorLoopBlocking: thresholdMs must be a finite number > 0, got ${thresholdMs}`);
  }
  if (onBlocked !== undefined && typeof onBlocked !== 'function') {
    throw new TypeError(`monitorLoopBlocking: onBlocked must be a function, got ${describe(onBlocked)}`);
  }
  return { thresholdMs, onBlocked };
}
