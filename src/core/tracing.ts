/**
 * Tracing: the `diagnostics_channel` TracingChannel `threadloop:task`, so that APM tools (and
 * OpenTelemetry instrumentations) see a task crossing threads instead of a black hole.
 *
 * Both sides of a call publish on it, told apart by `side`:
 * - `'call'`, on the thread that submits (core/calls.ts): `start` and `end` around the submit,
 *   `asyncStart` and `asyncEnd` when its future settles (`error` before them if it failed);
 *   at the end, `queueWaitMs` (submit to sent) and `runTimeMs` (sent to settled);
 * - `'run'`, on the thread that runs the task (runtime/call-extras.ts): the same events around
 *   the task's body; `start` runs inside the context that came with the call (core/context.ts),
 *   so a subscriber can read it, and with `bindStore` the body runs in the store it binds.
 *
 * With no subscriber nothing is built or published: each submit and each run checks
 * `hasSubscribers`, one property read.
 */
import diagnostics_channel from 'node:diagnostics_channel';

/** What a `threadloop:task` event carries. */
export interface TaskTraceContext {
  /** `'call'` on the submitting thread, `'run'` on the thread running the task. */
  readonly side: 'call' | 'run';
  /** The call's id: unique among the calls of one executor or loop client ('call'), of one connection ('run'). */
  id: number;
  /** The task's function name. */
  readonly task: string;
  /** The executor's name ('call' side, pool calls). */
  readonly executor?: string;
  /** The loop's name ('call' side, loop calls). */
  readonly loop?: string;
  /** The name of the thread running the task ('run' side). */
  readonly thread?: string;
  /** At the end ('call'): milliseconds from submit until the call was sent to its thread. */
  queueWaitMs?: number;
  /** At the end: milliseconds the task ran ('run'), or from sent to settled ('call'). */
  runTimeMs?: number;
  /** At the end: the result (at `end`, the Future or promise the call returned). */
  result?: unknown;
  /** The error, when it failed. */
  error?: unknown;
}

/**
 * The channel. Subscribe with `diagnostics_channel.tracingChannel('threadloop:task')`.
 *
 * @example
 * import diagnostics_channel from 'node:diagnostics_channel';
 * diagnostics_channel.tracingChannel('threadloop:task').subscribe({
 *   start(ctx) {}, end(ctx) {}, asyncStart(ctx) {},
 *   asyncEnd(ctx) { if (ctx.side === 'call') console.log(ctx.task, ctx.queueWaitMs, ctx.runTimeMs); },
 *   error(ctx) { console.error(ctx.task, ctx.error); },
 * });
 */
export const taskChannel = diagnostics_channel.tracingChannel<object, TaskTraceContext>('threadloop:task');

/** The call side's context while a call is out: its times, for the end. @internal */
export interface CallTrace extends TaskTraceContext {
  submittedAt: number;
  sentAt: number | undefined;
}

/** Publishes a call's end: `error` (if it failed), `asyncStart`, `asyncEnd`. @internal */
export function publishSettled(trace: CallTrace, failed: boolean, value: unknown): void {
  const now = performance.now();
  trace.queueWaitMs = (trace.sentAt ?? now) - trace.submittedAt;
  trace.runTimeMs = trace.sentAt === undefined ? 0 : now - trace.sentAt;
  if (failed) {
    trace.error = value;
    taskChannel.error.publish(trace);
  } else {
    trace.result = value;
  }
  taskChannel.asyncStart.publish(trace);
  taskChannel.asyncEnd.publish(trace);
}
