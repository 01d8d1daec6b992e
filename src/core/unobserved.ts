/**
 * Failures nobody looked at: asyncio's "Future exception was never retrieved". A future that
 * failed, and that is garbage-collected (or still alive when its thread exits) without anyone
 * having looked at its error, is reported with a `THREADLOOP_UNOBSERVED_FAILURE` process warning
 * naming the task and the error. The process goes on, and exits with the code it would have.
 *
 * **What counts as looking** (the future's side is in core/future.ts, "Knowing who looks"):
 * `await future`, `then` / `catch` / `finally`, `Promise.resolve` / `all` / `race` / `any` /
 * `allSettled` over it, resolving another promise with it (`return future` in an async
 * function) — at any time, before or after it failed — and `result()`, `exception()` and
 * `resultSync()` once they hand the outcome over (a done callback that calls one of them too).
 * A done callback that does not, `state`, `done()` and `console.log(future)` do not count.
 *
 * **Why not Node's own unhandled-rejection tracking**: a Future marks its rejection handled when
 * it fails (core/future.ts), because most failed futures are meant to wait — in a `wait()` set, a
 * TaskGroup, a map's window — and an unhandled rejection ends the process under Node's default
 * `--unhandled-rejections=throw`. Node tells whether a rejection was handled only through
 * `process.on('unhandledRejection')`, and listening to it changes what every other rejection of
 * the process does; the engine's own flag (has a handler?) is not readable from JavaScript.
 *
 * **Why a FinalizationRegistry, entered only on failure**: only a collected future can no longer
 * be looked at; until then someone may still await it, and then nothing is said (as asyncio,
 * which warns from `__del__`). A future that fails with nobody looking is registered with what
 * its warning will say — the task's name and the error, never the future — and unregistered
 * when someone looks. Futures that succeed, or are looked at before they fail (the usual
 * `await pool.submit(…)`), never enter it.
 *
 * **At exit**: Node runs no collection and no finalizer as a thread exits, so a short script's
 * failure nobody awaited would stay silent. The failures still registered when the thread exits
 * are reported then (asyncio reports those at interpreter shutdown, when the futures are freed).
 * Nobody can look at them any more.
 *
 * **Where it differs from asyncio**, and why:
 * - Looking is seen through the engine's read of `future.constructor` (core/future.ts). V8 (Node,
 *   Deno) always reads it for a Future; an engine that skipped it for promise subclasses would
 *   make an awaited future look unobserved (test/unobserved.test.js checks every such path). Any
 *   other read of `constructor` counts as looking too: that can miss a warning, not invent one.
 * - `result()` / `exception()` count when they hand the outcome over, not when called: one whose
 *   `timeoutMs` passed first has shown nothing.
 * - When a warning comes depends on the collector: at some later collection, or at exit.
 * - A worker thread ended with `worker.terminate()` (a pool ending a stuck worker) runs no
 *   'exit' handlers: failures of its own futures still alive then are not reported.
 *
 * **Not reported**: cancelled futures; failures with an `AbortError` or `CancelledError` (the
 * work was stopped on purpose: its signal, its task group, a closed stream, a cancelled call it
 * awaited); failures of an owner with `unobservedFailures: 'ignore'`. For every future at once,
 * Node's `--disable-warning=THREADLOOP_UNOBSERVED_FAILURE` (or `NODE_OPTIONS`) silences the
 * warning in every thread and child process.
 */
import { inspect } from 'node:util';
import { AbortError, CancelledError } from '../wire/errors.js';

/** The `code` of the process warning for a failed future nobody looked at (`process.on('warning')`). */
export const UNOBSERVED_FAILURE_WARNING = 'THREADLOOP_UNOBSERVED_FAILURE';

/**
 * Whether an executor or loop reports a failed future nobody looked at: `'warn'` (the default)
 * emits a `THREADLOOP_UNOBSERVED_FAILURE` process warning, `'ignore'` does not.
 */
export type UnobservedFailures = 'warn' | 'ignore';

/** A failure nobody has looked at yet: what its warning says. Never refers to the future. */
export interface UnseenFailure {
  /** The task's name, when the future is a task's. */
  readonly name: string | undefined;
  readonly error: unknown;
}

/** Registered, not yet looked at, not yet collected: what a thread's exit reports. */
const unseen = new Set<UnseenFailure>();
const collected = new FinalizationRegistry<UnseenFailure>((failure) => {
  if (unseen.delete(failure)) process.emitWarning(warningOf(failure));
});
let exitHooked = false;

/** Whether a failure with `error` is one to report if nobody looks at it. */
export function worthReporting(error: unknown): boolean {
  return !(error instanceof AbortError || error instanceof CancelledError);
}

/** `future` failed with nobody looking: report it when it is collected, or at exit. */
export function watchFailure(future: object, name: string | undefined, error: unknown): UnseenFailure {
  const failure: UnseenFailure = { name, error };
  collected.register(future, failure, failure);
  unseen.add(failure);
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', reportAtExit);
  }
  return failure;
}

/** Someone looked at it: nothing to report. */
export function failureSeen(failure: UnseenFailure): void {
  collected.unregister(failure);
  unseen.delete(failure);
}

function reportAtExit(): void {
  // process.emitWarning() delivers on the next tick, which never comes during 'exit': emit the
  // event now (Node's listener prints at once and honours --no-warnings and --disable-warning).
  for (const failure of unseen) process.emit('warning', warningOf(failure));
  unseen.clear();
}

function warningOf({ name, error }: UnseenFailure): Error {
  const what = name === undefined ? 'a Future' : `task '${name}'`;
  // inspect: an Error's stack (the remote one, for a task's) with its own properties and causes.
  const warning = new Error(`${what} failed and nobody looked at its error (await its future, or call result() or exception()): ${inspect(error)}`);
  warning.name = 'Warning';
  (warning as Error & { code: string }).code = UNOBSERVED_FAILURE_WARNING;
  return warning;
}
