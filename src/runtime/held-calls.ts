/**
 * Calls that wait while their thread blocks. A thread blocked in `resultSync` reads the frames
 * that arrive by hand; calls among them must not run inside that blocking call, so they wait
 * here, in order, until the last hold ends, and then run from a microtask — after the blocking
 * call has returned.
 */
import { CallFlag } from '../wire/protocol.js';

/** A call that arrived while held. */
export interface HeldCall {
  id: number;
  taskId: number;
  args: unknown[];
  slot: number;
  flags: number;
  /** The id of the peer's call that made it (see CALL's origin), or 0 if not known. */
  origin: number;
}

const resolved = Promise.resolve();

export class HeldCalls {
  /** Holds in force: blocking waits nest. */
  #holds = 0;
  readonly #calls: HeldCall[] = [];

  constructor(
    /** Runs one call, once nothing holds them any more. */
    readonly run: (call: HeldCall) => void,
  ) {}

  /** Whether a call that arrives now must wait: a hold is in force, or earlier calls wait. */
  get holding(): boolean {
    return this.#holds > 0 || this.#calls.length > 0;
  }

  /** How many calls wait. */
  get size(): number {
    return this.#calls.length;
  }

  add(call: HeldCall): void {
    this.#calls.push(call);
  }

  /** One more hold (`true`), or one fewer (`false`); the last one lets the calls run. */
  hold(on: boolean): void {
    this.#holds += on ? 1 : -1;
    if (this.#holds === 0 && this.#calls.length > 0) void resolved.then(() => this.#runAll());
  }

  /** Whether a waiting call that wants an answer was made by `id`, by a call not known, or neither. */
  from(id: number): 'call' | 'unknown' | 'none' {
    let found: 'unknown' | 'none' = 'none';
    for (const call of this.#calls) {
      if ((call.flags & CallFlag.Detached) !== 0) continue;
      if (call.origin === id) return 'call';
      if (call.origin === 0) found = 'unknown';
    }
    return found;
  }

  #runAll(): void {
    while (this.#holds === 0 && this.#calls.length > 0) this.run(this.#calls.shift()!);
  }
}
