/**
 * One job's stop on a queue worker: its producer's cancel or abort, or the hand-back at close.
 *
 * Most jobs are never stopped, and a worker takes thousands a second: an AbortController and two
 * or three event listeners per job cost more than the no-op job itself. So a stop is a plain
 * object: a wait hooks in with one callback, and an AbortSignal is made only for the task a
 * producer can abort (the pool needs a real signal to end it).
 */

const nothing = (): void => {};

/** A job's stop, fired at most once. @internal */
export class JobStop {
  #stopped = false;
  #reason: unknown;
  #controller: AbortController | undefined;
  #hook: ((reason: unknown) => void) | undefined;

  /** Whether the job was stopped. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Why it was stopped (an AbortError); undefined while it was not. */
  get reason(): unknown {
    return this.#reason;
  }

  /** Stops the job: the signal (if one was made) aborts and the waiting hook runs. Later calls do nothing. */
  stop(reason: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const hook = this.#hook;
    this.#hook = undefined;
    hook?.(reason);
  }

  /** An AbortSignal that aborts with the stop (already aborted if it came). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#stopped) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /**
   * Calls `hook` with the reason when the job stops — at once if it has. One hook at a time (a job
   * waits for one thing at a time); the returned function unhooks it.
   */
  onStop(hook: (reason: unknown) => void): () => void {
    if (this.#stopped) {
      hook(this.#reason);
      return nothing;
    }
    this.#hook = hook;
    return () => {
      if (this.#hook === hook) this.#hook = undefined;
    };
  }

  /** `promise`, or a rejection with the reason as soon as the job stops (the promise is then let go of). */
  race<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const unhook = this.onStop(reject);
      promise.then(
        (value) => {
          unhook();
          resolve(value);
        },
        (error: unknown) => {
          unhook();
          reject(error);
        },
      );
    });
  }
}
