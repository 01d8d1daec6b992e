/**
 * `currentTask()`: what a running task can learn about itself — its id, name and abort signal.
 *
 * The context is set while the task's synchronous part runs, so call `currentTask()` at the top
 * of the task, before the first `await`, and keep what it returns. (AsyncLocalStorage would let
 * it work after awaits too, but on Node 20 it slows every promise in the thread.)
 */


/** What a running task knows about itself. */
export interface TaskContext {
  /** The call's id, unique on the calling side of the connection. */
  readonly id: number;
  /** The task's function name. */
  readonly name: string;
  /** Aborted when the caller aborts (its `signal`) or the call times out. */
  readonly signal: AbortSignal;
}

/** One call being run on this thread. @internal */
export class RunningCall implements TaskContext {
  #controller: AbortController | undefined;

  constructor(
    readonly id: number,
    readonly name: string,
    /** The connection that asked for it: calls it makes back over that one name it as origin. */
    readonly via?: object,
  ) {}

  get signal(): AbortSignal {
    return (this.#controller ??= new AbortController()).signal;
  }

  abort(reason: unknown): void {
    (this.#controller ??= new AbortController()).abort(reason);
  }
}

let current: RunningCall | undefined;

/** The call running on this thread now (in its synchronous part), if any. @internal */
export function runningCall(): RunningCall | undefined {
  return current;
}

/** Makes `call` the current task; returns the one it replaces, for `leaveCall`. @internal */
export function enterCall(call: RunningCall): RunningCall | undefined {
  const previous = current;
  current = call;
  return previous;
}

/** Restores the current task `enterCall` replaced. @internal */
export function leaveCall(previous: RunningCall | undefined): void {
  current = previous;
}

/**
 * The running task's context. Call it before the task's first `await`.
 *
 * @example
 * export async function download(url) {
 *   const { signal } = currentTask();
 *   return (await fetch(url, { signal })).text();
 * }
 */
export function currentTask(): TaskContext {
  if (current === undefined) {
    throw new Error(
      'currentTask() was called outside a running task (or after its first await): ' +
        'call it at the top of the task and keep the result',
    );
  }
  return current;
}
