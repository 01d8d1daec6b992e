/**
 * An endpoint: one thread (or child process) that calls are sent to, as the calling side sees it
 * — a pool worker, a loop thread, the main loop seen from a worker, this thread's own loop. It
 * keeps the calls sent there and not settled, and the start/withdraw cells (wire/slots.ts) that
 * let the calling side take back a call the other thread has not started.
 */
import type { TransferList } from '../wire/args.js';
import { WorkerCrashedError } from '../wire/errors.js';
import { NO_SLOT } from '../wire/protocol.js';
import { SLOT_COUNT, type Slots } from '../wire/slots.js';
import type { Call } from './calls.js';
import type { Task } from './task.js';

/** What the calling side needs of the connection to an endpoint (runtime/connection.ts). */
export interface CallSender {
  /** Queues a call; the reply comes back through the connection's `result` event. */
  call(id: number, task: Task, args: unknown[], slot: number, flags: number, transfer: TransferList | undefined): void;
  /** Asks the other side to fire the signal of call `id`. */
  abort(id: number, reason: unknown): void;
  /** Lets streamed call `id` yield `n` more chunks (its consumer took that many). */
  credit(id: number, n: number): void;
  /** Tells the connection which endpoint its outgoing calls belong to (for their YIELD ops). */
  bind?(endpoint: Endpoint): void;
  /** Sends what is queued now. */
  flush(): void;
  /** Handles the frames that have arrived, without the event loop. */
  receivePending(): number;
  /**
   * Whether the other thread polls for frames now (it spins for them, or blocks in resultSync):
   * what was just sent is read at once, and an answer may be microseconds away.
   */
  peerPolls(): boolean;
  /**
   * While on, calls that arrive for this thread wait instead of running: a thread blocked in
   * `resultSync` must not run tasks from inside it. Turning it off lets them run, in order,
   * once the thread is back in its event loop. Holds nest: each `true` is undone by one `false`.
   */
  holdCalls(on: boolean): void;
  /** How many calls arrived while held and wait to run. */
  readonly heldCalls: number;
  /**
   * Whether a held call (one that waits for an answer) was made by this side's call `id`
   * (`'call'`), by a call it cannot tell (`'unknown'`: made after an await), or neither.
   */
  heldFrom(id: number): 'call' | 'unknown' | 'none';
}

/** Why an endpoint's thread is gone. */
export interface EndpointExit {
  /** The exit code, when it exited. */
  exitCode?: number;
  /** The signal that killed it (child processes). */
  signal?: string;
  /** The uncaught error that ended it, if any. */
  error?: unknown;
}

/** Keeps this thread alive while calls are out (a port, a Worker, a child process). */
export interface KeepAlive {
  ref(): void;
  unref(): void;
}

export class Endpoint {
  /** Calls sent here and not settled, in the order they were sent. */
  readonly calls = new Map<number, Call>();
  readonly #freeSlots: number[] | undefined;

  constructor(
    readonly sender: CallSender,
    /** Start/withdraw cells of calls sent here; none without shared memory (sent = started). */
    readonly slots: Slots | undefined,
    /** Held while calls are out; undefined where the thread stays alive anyway. */
    readonly keepAlive: KeepAlive | undefined,
    /**
     * Whether the endpoint's thread is gone, asked without the event loop by a thread blocked in
     * `resultSync` (which cannot hear 'exit'); undefined while it runs.
     */
    readonly probe: (() => EndpointExit | undefined) | undefined,
  ) {
    this.#freeSlots = slots === undefined ? undefined : Array.from({ length: SLOT_COUNT }, (_, i) => SLOT_COUNT - 1 - i);
    sender.bind?.(this);
  }

  /** A streamed call sent here yielded `chunk`: hand it to the call's consumer. */
  yielded(id: number, chunk: unknown): void {
    this.calls.get(id)?.stream?.push(chunk);
  }

  /** Calls sent and not settled. */
  get inflight(): number {
    return this.calls.size;
  }

  /** Whether one more call can be sent with a slot of its own (always, without slots). */
  hasRoom(): boolean {
    return this.#freeSlots === undefined || this.#freeSlots.length > 0;
  }

  /** Records a call as sent here; returns its slot (NO_SLOT without shared memory). */
  add(call: Call): number {
    if (this.calls.size === 0) this.keepAlive?.ref();
    this.calls.set(call.id, call);
    const slot = this.#freeSlots?.pop();
    if (slot === undefined) return NO_SLOT;
    this.slots!.offer(slot, call.id);
    return slot;
  }

  /** Forgets a call (settled, withdrawn, or lost with the thread). */
  remove(call: Call): void {
    if (!this.calls.delete(call.id)) return;
    if (call.slot !== NO_SLOT) this.#freeSlots!.push(call.slot);
    if (this.calls.size === 0) this.keepAlive?.unref();
  }

  /** Takes back a call the thread has not started; false if it has (or cannot be told). */
  withdraw(call: Call): boolean {
    if (call.slot === NO_SLOT || !this.slots!.withdraw(call.slot, call.id)) return false;
    this.remove(call);
    return true;
  }

  /** Whether the thread has started `call`. Without slots, a sent call counts as started. */
  started(call: Call): boolean {
    return call.slot === NO_SLOT || this.slots!.started(call.slot, call.id);
  }
}

/**
 * The error of calls lost with an endpoint's thread. `subject` says what died, e.g.
 * "the worker thread pool#2 running task 'resize'" or "loop thread 'db'".
 */
export function crashError(subject: string, exit: EndpointExit): WorkerCrashedError {
  const code = (exit.error as { code?: unknown } | undefined)?.code;
  const what = code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'ran out of memory (resourceLimits)' : describeExit(exit);
  return new WorkerCrashedError(`${subject} ${what}`, { exitCode: exit.exitCode, signal: exit.signal, cause: exit.error });
}

/** How a thread ended, in words: "was killed by SIGKILL", "exited with code 3", … */
export function describeExit(exit: EndpointExit): string {
  if (exit.signal !== undefined) return `was killed by ${exit.signal}`;
  if (exit.error !== undefined) return `died: ${messageOf(exit.error)}`;
  return `exited with code ${exit.exitCode ?? 'unknown'}`;
}

/** An error's message, or the thrown value in words. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
