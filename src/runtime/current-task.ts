/**
 * `currentTask()`: what a running task can learn about itself — its id, name and abort signal.
 *
 * The context is set while the task's synchronous part runs, so call `currentTask()` at the top
 * of the task, before the first `await`, and keep what it returns. (AsyncLocalStorage would let
 * it work after awaits too, but on Node 20 it slows every promise in the thread.)
 */
import { perThread } from '../wire/thread-state.js';


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

// Per thread, not per copy of threadloop: the task's own `currentTask()` may come from another
// copy than the runtime that runs it (wire/thread-state.ts).
const state = perThread('current-task', 1, () => ({ current: undefined as TaskContext | undefined }));

/**
 * The call running on this thread now (in its synchronous part), if any — made by this copy of
 * threadloop or another one, so only what every copy's RunningCall has is relied on. @internal
 */
export function runningCall(): (TaskContext & { readonly via?: object }) | undefined {
  return state.current;
}

/** Makes `call` the current task; returns the one it replaces, for `leaveCall`. @internal */
export function enterCall(call: RunningCall): TaskContext | undefined {
  const previous = state.current;
  state.current = call;
  return previous;
}

/** Restores the current task `enterCall` replaced. @internal */
export function leaveCall(previous: TaskContext | undefined): void {
  state.current = previous;
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
  const current = state.current;
  if (current === undefined) {
    throw new Error(
      'currentTask() was called outside a running task (or after its first await): ' +
        'call it at the top of the task and keep the result',
    );
  }
  return current;
}
