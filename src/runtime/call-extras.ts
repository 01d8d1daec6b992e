/**
 * Running a call that carries more than its arguments — the caller's context, a stream's first
 * credit — or that tracing watches. The connection (connection.ts) runs a plain call itself and
 * comes here only when the call's flags or this thread's state ask for it, so a plain call in a
 * thread that uses neither costs one flag test and one property read.
 */
import { contextActive, runInContext, type ContextPayload } from '../core/context.js';
import { taskChannel, type TaskTraceContext } from '../core/tracing.js';
import { CallFlag } from '../wire/protocol.js';
import { RunningCall } from './current-task.js';
import { StreamRun, type StreamOut } from './stream-run.js';

/** Flags that need more than calling the task with its arguments. */
const EXTRAS = CallFlag.Context | CallFlag.Stream;

type TaskFunction = (...args: unknown[]) => unknown;

/** Calls the task: on its arguments, or (flag Chunk) on each item of a chunk. */
export function invoke(fn: TaskFunction, args: unknown[], flags: number): unknown {
  return (flags & CallFlag.Chunk) !== 0 ? runChunk(fn, args[0] as unknown[], (flags & CallFlag.Spread) !== 0) : fn(...args);
}

function runChunk(fn: TaskFunction, items: unknown[], spread: boolean): unknown {
  const results = items.map((item) => (spread ? fn(...(item as unknown[])) : fn(item)));
  return results.some(isThenable) ? Promise.all(results) : results;
}

/** Whether a call with `flags` must go through `runWithExtras`. */
export function needsExtras(flags: number): boolean {
  return (flags & EXTRAS) !== 0 || contextActive() || taskChannel.hasSubscribers;
}

/** The running call for a new call over `out`: a StreamRun for a streamed one. */
export function makeRunningCall(id: number, name: string, flags: number, out: StreamOut): RunningCall {
  return (flags & CallFlag.Stream) !== 0 ? new StreamRun(id, name, out) : new RunningCall(id, name, out);
}

/**
 * Runs `fn` on `args` for `call`: with the trailing elements the flags announce
 * taken off `args`, inside the caller's context, traced, and pumped as a stream when asked.
 * Returns what the task returned (a promise, for a stream: it settles when the stream ends).
 */
export function runWithExtras(call: RunningCall, fn: TaskFunction, args: unknown[], flags: number, thread: string): unknown {
  const context = (flags & CallFlag.Context) !== 0 ? (args.pop() as ContextPayload) : undefined;
  const credit = (flags & CallFlag.Stream) !== 0 ? (args.pop() as number) : 0;
  let body: () => unknown = (flags & CallFlag.Stream) !== 0 ? () => (call as StreamRun).pump(invoke(fn, args, flags), credit) : () => invoke(fn, args, flags);
  if (taskChannel.hasSubscribers) {
    const inner = body;
    body = () => traced(call, thread, inner);
  }
  return context !== undefined || contextActive() ? runInContext(context, body) : body();
}

/** Runs `body` between the running side's `start` and `end` (and `asyncStart`/`asyncEnd`). */
function traced(call: RunningCall, thread: string, body: () => unknown): unknown {
  const trace: TaskTraceContext = { side: 'run', id: call.id, task: call.name, thread };
  const started = performance.now();
  return taskChannel.traceSync(() => {
    const result = body();
    if (!isThenable(result)) {
      trace.runTimeMs = performance.now() - started;
      return result;
    }
    return result.then(
      (value) => {
        trace.runTimeMs = performance.now() - started;
        trace.result = value;
        taskChannel.asyncStart.publish(trace);
        taskChannel.asyncEnd.publish(trace);
        return value;
      },
      (error: unknown) => {
        trace.runTimeMs = performance.now() - started;
        trace.error = error;
        taskChannel.error.publish(trace);
        taskChannel.asyncStart.publish(trace);
        taskChannel.asyncEnd.publish(trace);
        throw error;
      },
    );
  }, trace);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
