/**
 * The call table: the calling side of every cross-thread call — a pool task, a loop call, a
 * `mainLoop()` call. One mechanism, so every future keeps one contract:
 *
 *     queued ──▶ sent ──▶ running ──▶ settled
 *       │          │         │
 *       │          │         └──▶ stopping ──▶ settled     (aborted or timed out while running)
 *       └──────────┴──────────────────────────▶ settled     (cancelled, aborted, or lost before it started)
 *
 * - `queued`: waiting on this side (a pool's queue, a loop's calls beyond its slots);
 * - `sent`: sent to an endpoint that has not started it, so `cancel()` can still take it back —
 *   the two sides race for its start/withdraw cell (wire/slots.ts);
 * - `running`: started over there (or sent where no cell exists: a child process);
 * - `stopping`: aborted (its signal, its `timeoutMs`) while running: the task's own
 *   `currentTask().signal` fired over there, and the future settles with the abort when the task
 *   has stopped — or after `abortGraceMs`, when the owner decides (a pool ends the worker; a loop
 *   thread, never killed for one call, settles it and reports the task that ignored its abort);
 * - `settled`: its future is done; the call is forgotten everywhere.
 *
 * What differs between a pool and a loop — where queued calls wait, which endpoint a call goes
 * to, what ending a stuck call means — is the owner's {@link CallPolicy}.
 */
import type { TransferList } from '../wire/args.js';
import { decodeError, type EncodedError } from '../wire/error-codec.js';
import { AbortError, CancelledError, DeadlockError, TimeoutError } from '../wire/errors.js';
import { CallFlag, NO_SLOT } from '../wire/protocol.js';
import { SpinBackoff, type Wake } from '../wire/wake.js';
import type { Endpoint, EndpointExit } from './endpoint.js';
import { captureContext, contextActive } from './context.js';
import { Future, type FutureLink } from './future.js';
import { SignalWatch } from './signal-watch.js';
import type { TaskStream } from './stream.js';
import { refuseQueueOptions, type Task } from './task.js';
import { after, type Timer } from './timers.js';
import { publishSettled, taskChannel, type CallTrace } from './tracing.js';
import type { UnobservedFailures } from './unobserved.js';

/** Where a call is in its life; see the module's doc. */
export type CallState = 'queued' | 'sent' | 'running' | 'stopping' | 'settled';

/** What an owner of a call table (a pool, a loop client) decides. */
export interface CallPolicy {
  /** A new call: send it to an endpoint now (`table.send`), or keep it queued. */
  dispatch(call: Call): void;
  /**
   * A call is settling: bring the books up to date (it is no longer queued, or no longer on
   * `from`, the endpoint it was sent to) — but send nothing yet. Its future settles next.
   */
  released(call: Call, from: Endpoint | undefined): void;
  /**
   * The call's future has settled (its done callbacks have run: a task group may have cancelled
   * what it no longer wants): carry on, e.g. send the next queued call to the endpoint it freed.
   * `now`, when given, is the time it settled (saves reading the clock again).
   */
  next(call: Call, from: Endpoint | undefined, now?: number): void;
  /** A call asked to stop has not stopped within `abortGraceMs`. */
  stuck(call: Call, endpoint: Endpoint): void;
  /** The endpoints a blocking wait looks after. */
  endpoints(): readonly Endpoint[];
  /** A blocking wait found that `endpoint`'s thread is gone. */
  gone(endpoint: Endpoint, exit: EndpointExit): void;
}

/** How a table's calls are made and waited for. */
export interface CallTableOptions {
  /** How long a call asked to stop may take before the policy's `stuck` (ms). */
  abortGraceMs: number;
  /** Append the submitting stack to a failed call's error (a stack capture per call). */
  callerStacks: boolean;
  /** Bumped whenever an endpoint sends this thread a frame: what a blocking wait sleeps on. */
  wake: Wake | undefined;
  /** Why a blocking wait cannot be done, when `wake` is undefined. */
  cannotBlock: string;
  /** Whose calls these are, as tracing names it (core/tracing.ts). */
  target?: { readonly executor: string } | { readonly loop: string };
  /** Whether a failed future nobody looked at is reported (core/unobserved.ts). Default 'warn'. */
  unobservedFailures?: UnobservedFailures;
}

/** How often a blocking wait looks for a thread that is gone without a word (out of memory). */
const PROBE_MS = 50;

/**
 * How long a blocking wait spins before it sleeps (ms). The caller is blocked anyway, and an
 * answer that comes while it spins is read at once, where waking from `Atomics.wait` costs tens
 * of microseconds on an idle virtual CPU. Bounded, and backed off where it does not pay (see
 * SpinBackoff).
 */
const SPIN_MS = 0.05;

/** One call, from submit to settled. It is its future's link: `cancel()`, `state`, `resultSync()`. */
export class Call implements FutureLink {
  state: CallState = 'queued';
  /** Where it was sent, while it is there. */
  endpoint: Endpoint | undefined = undefined;
  /** Its start/withdraw cell on that endpoint, or NO_SLOT. */
  slot = NO_SLOT;
  /** When it was submitted, then (once sent) when it was sent. */
  at: number;
  /** While `stopping`: what the future settles with. */
  stopError: Error | undefined = undefined;
  /** Its timeout while sent, then its abort grace while stopping. */
  timer: Timer | undefined = undefined;
  /** A streamed call's consumer, which its YIELD ops go to. */
  stream: TaskStream<unknown> | undefined = undefined;
  /** Its `threadloop:task` context, when tracing was subscribed at submit. */
  trace: CallTrace | undefined = undefined;

  constructor(
    readonly table: CallTable,
    readonly id: number,
    readonly task: Task,
    readonly args: unknown[],
    readonly flags: number,
    /** Moved, not copied: such a call cannot be sent again once it was sent. */
    readonly transfer: TransferList | undefined,
    readonly future: Future<unknown>,
    submittedAt: number,
    readonly callerStack: Error | undefined,
  ) {
    this.at = submittedAt;
  }

  /**
   * Abortable calls (a signal, a timeout, or a stream, which its consumer may stop): a pool runs
   * them alone on a worker.
   */
  get name(): string {
    return this.task.name;
  }

  get unobservedFailures(): UnobservedFailures | undefined {
    return this.table.options.unobservedFailures;
  }

  get abortable(): boolean {
    return this.task.options.signal !== undefined || this.task.options.timeoutMs !== undefined || (this.flags & CallFlag.Stream) !== 0;
  }

  withdraw(): boolean {
    return this.table.cancel(this);
  }

  hasStarted(): boolean {
    if (this.state === 'sent' && this.endpoint!.started(this)) this.state = 'running';
    return this.state !== 'queued' && this.state !== 'sent';
  }

  waitSync(_future: Future<unknown>, deadline: number): void {
    this.table.waitSync(this, deadline);
  }
}

export class CallTable {
  #nextId = 1;
  /** Calls by the signal they watch: one listener per signal, however many calls share it. */
  readonly #watching = new SignalWatch<Call>((call, signal) => {
    this.stop(call, new AbortError(`task '${call.task.name}' was aborted`, { cause: signal.reason }));
  });
  /** Whether a blocking wait spins before it sleeps (see SPIN_MS). */
  readonly #spin = new SpinBackoff();
  completed = 0;
  failed = 0;
  cancelled = 0;

  constructor(
    readonly policy: CallPolicy,
    readonly options: CallTableOptions,
  ) {}

  /**
   * Makes a call of `task` and hands it to the policy; returns its future. The context in force
   * (core/context.ts) goes with it, and tracing (core/tracing.ts) sees it, when either is in use.
   */
  submit(task: Task, args: unknown[], flags: number, transfer: TransferList | undefined): Future<unknown> {
    refuseQueueOptions(task, 'a thread or process pool, a loop thread or the main loop');
    if (taskChannel.hasSubscribers) return this.#traced(task, args, flags, transfer);
    return this.#submit(task, args, flags, transfer, undefined);
  }

  #traced(task: Task, args: unknown[], flags: number, transfer: TransferList | undefined): Future<unknown> {
    const trace: CallTrace = { side: 'call', id: this.#takeId(), task: task.name, ...this.options.target, submittedAt: performance.now(), sentAt: undefined };
    return taskChannel.traceSync(() => this.#submit(task, args, flags, transfer, trace), trace);
  }

  #submit(task: Task, args: unknown[], flags: number, transfer: TransferList | undefined, trace: CallTrace | undefined): Future<unknown> {
    if (contextActive()) {
      const context = captureContext(task.name);
      if (context !== undefined) {
        args = [...args, context];
        flags |= CallFlag.Context;
      }
    }
    const future = new Future<unknown>();
    const signal = task.options.signal;
    if (signal?.aborted === true) {
      const error = new AbortError(`task '${task.name}' was aborted before it was submitted`, { cause: signal.reason });
      if (trace !== undefined) publishSettled(trace, true, error);
      future.reject(error);
      return future;
    }
    const id = trace?.id ?? this.#takeId();
    const stack = this.options.callerStacks ? new Error('submitted here') : undefined;
    const call = new Call(this, id, task, args, flags, transfer, future, performance.now(), stack);
    future.link = call;
    if (trace !== undefined) call.trace = trace;
    if (signal !== undefined) this.#watching.add(signal, call);
    this.policy.dispatch(call);
    return future;
  }

  #takeId(): number {
    const id = this.#nextId;
    this.#nextId = id === 0x7fffffff ? 1 : id + 1; // ids stay positive int32s (see slots.ts)
    return id;
  }

  /** Sends a queued call to `endpoint`; its timeout runs from now. */
  send(call: Call, endpoint: Endpoint): void {
    call.endpoint = endpoint;
    call.slot = endpoint.add(call);
    call.state = call.slot === NO_SLOT ? 'running' : 'sent';
    if (call.trace !== undefined) call.trace.sentAt = performance.now();
    const timeoutMs = call.task.options.timeoutMs;
    if (timeoutMs !== undefined) {
      call.timer = after(timeoutMs, () => this.stop(call, new TimeoutError(`task '${call.task.name}' ran longer than its timeout of ${timeoutMs} ms`)));
    }
    endpoint.sender.call(call.id, call.task, call.args, call.slot, call.flags, call.transfer);
  }

  /** Takes a sent call back if its endpoint has not started it: it is queued again. */
  unsend(call: Call): boolean {
    if (call.state !== 'sent' || !call.endpoint!.withdraw(call)) return false;
    this.#requeue(call);
    return true;
  }

  /** The endpoint answered `call`: settle it (with the abort, if it was stopping). */
  reply(call: Call, ok: boolean, value: unknown, now?: number): void {
    if (call.state === 'stopping') this.#settle(call, 'failed', call.stopError, now);
    else if (ok) this.#settle(call, 'finished', value, now);
    else this.#settle(call, 'failed', decodeError(value as EncodedError, call.callerStack?.stack), now);
  }

  /** A future's `cancel()`: true if the call had not started and never will. */
  cancel(call: Call): boolean {
    if (call.state === 'queued' || (call.state === 'sent' && call.endpoint!.withdraw(call))) {
      this.#settle(call, 'cancelled', new CancelledError());
      return true;
    }
    return call.state === 'settled' && call.future.cancelled();
  }

  /** Settles a call that has not started (queued or sent) with `error`; false if it started. */
  fail(call: Call, error: unknown, cancelled = false): boolean {
    if (call.state !== 'queued' && !(call.state === 'sent' && call.endpoint!.withdraw(call))) return false;
    this.#settle(call, cancelled ? 'cancelled' : 'failed', error);
    return true;
  }

  /**
   * Aborts or times out a call: one that has not started settles at once and never runs; a
   * running one has its signal fired over there and settles when it stops (see the module doc).
   */
  stop(call: Call, error: AbortError | TimeoutError): void {
    if (call.state === 'settled' || call.state === 'stopping') return;
    if (this.fail(call, error)) return;
    const endpoint = call.endpoint!;
    call.state = 'stopping';
    call.stopError = error;
    endpoint.sender.abort(call.id, error.cause ?? error);
    call.timer?.clear();
    call.timer = after(this.options.abortGraceMs, () => {
      if (call.state === 'stopping') this.policy.stuck(call, endpoint);
    });
  }

  /**
   * Settles a call now with `error` (by default, the abort of a call that is stopping), whatever
   * its state: the owner gives up on it (a loop's stuck call, a broken executor's).
   */
  abandon(call: Call, error: unknown = call.stopError, cancelled = false): void {
    this.#settle(call, cancelled ? 'cancelled' : 'failed', error);
  }

  /**
   * `endpoint`'s thread is gone. Calls that were stopping settle with their abort; for every
   * other, `errorFor(call, started)` says what it fails with — or, for one that had not started,
   * undefined to queue it again. Returns the calls queued again, in the order they were sent.
   */
  lost(endpoint: Endpoint, errorFor: (call: Call, started: boolean) => unknown): Call[] {
    const requeued: Call[] = [];
    for (const call of [...endpoint.calls.values()]) {
      if (call.state === 'stopping') {
        this.#settle(call, 'failed', call.stopError);
        continue;
      }
      const unstarted = call.state === 'sent' && call.transfer === undefined && endpoint.withdraw(call);
      const error = errorFor(call, !unstarted);
      if (error === undefined && unstarted) {
        this.#requeue(call);
        requeued.push(call);
      } else {
        this.#settle(call, 'failed', error);
      }
    }
    return requeued;
  }

  /** Settles a queued call that will never be sent (the owner is closing or broken). */
  drop(call: Call, error: unknown, cancelled: boolean): void {
    if (call.state === 'queued') this.#settle(call, cancelled ? 'cancelled' : 'failed', error);
  }

  #requeue(call: Call): void {
    call.endpoint = undefined;
    call.slot = NO_SLOT;
    call.state = 'queued';
    call.timer?.clear();
    call.timer = undefined;
  }

  #settle(call: Call, how: 'finished' | 'failed' | 'cancelled', value: unknown, now?: number): void {
    if (call.state === 'settled') return;
    const from = call.endpoint;
    from?.remove(call);
    call.state = 'settled';
    call.timer?.clear();
    call.timer = undefined;
    const signal = call.task.options.signal;
    if (signal !== undefined) this.#watching.delete(signal, call);
    if (how === 'finished') this.completed++;
    else if (how === 'failed') this.failed++;
    else this.cancelled++;
    if (call.trace !== undefined) publishSettled(call.trace, how !== 'finished', value);
    // The owner's books first, then the future, then the owner's next move: settling runs done
    // callbacks, which may submit or cancel — they must find the books right, and what they
    // cancel must not have been sent to the endpoint this call just freed.
    try {
      this.policy.released(call, from);
    } finally {
      if (how === 'finished') call.future.resolve(value);
      else if (how === 'failed') call.future.reject(value);
      else call.future.cancelWith(value);
    }
    this.policy.next(call, from, now);
  }

  // ── blocking ─────────────────────────────────────────────────────────────────────────────

  /** Whether `call` (as far as can be told) waits for a call it made back to this thread. */
  #calledBack(call: Call): boolean {
    const endpoint = call.endpoint;
    if (endpoint === undefined || endpoint.sender.heldCalls === 0 || !call.hasStarted()) return false;
    const from = endpoint.sender.heldFrom(call.id);
    if (from !== 'unknown') return from === 'call';
    // Made after an await, by some call running over there: `call`, if it runs alone.
    for (const other of endpoint.calls.values()) if (other !== call && other.hasStarted()) return false;
    return true;
  }

  /**
   * Blocks this thread until `call` settles or `deadline` passes, doing by hand the event loop's
   * work for this table's endpoints: sending what is queued, reading replies, noticing a thread
   * that is gone. Calls that arrive for this thread meanwhile wait (they cannot run while it
   * blocks). If `call` made one of them — or one whose maker cannot be told arrives while `call`
   * is the only call running over there — and `call` then does not settle within PROBE_MS,
   * blocking could never end: DeadlockError. While it waits, this thread polls: the threads it
   * waits for may answer through shared memory (wire/frame-lane.ts), and it spins for their
   * answer before it sleeps (SPIN_MS).
   */
  waitSync(call: Call, deadline: number): void {
    const wake = this.options.wake;
    if (wake === undefined) throw new DeadlockError(this.options.cannotBlock);
    const held = new Set<Endpoint>();
    let calledBackAt: number | undefined;
    try {
      for (;;) {
        const seen = wake.read();
        for (const endpoint of [...this.policy.endpoints()]) {
          if (!held.has(endpoint)) {
            held.add(endpoint);
            endpoint.sender.holdCalls(true);
          }
          endpoint.sender.flush();
          endpoint.sender.receivePending();
        }
        if (call.state === 'settled') return;
        for (const endpoint of this.policy.endpoints()) endpoint.sender.flush();
        if (this.policy.endpoints().length === 0) {
          throw new DeadlockError('resultSync() would block forever: there is no thread left to run the task');
        }
        const calledBackNow = this.#calledBack(call);
        // The clock only when something depends on it: a deadline, or a call made back here.
        const now = deadline === Infinity && !calledBackNow ? 0 : performance.now();
        if (calledBackNow) {
          calledBackAt ??= now;
          if (now - calledBackAt >= PROBE_MS) throw calledBack(call);
        }
        const remaining = deadline - now;
        if (remaining <= 0) return;
        // A thread that polls reads the call at once: its answer is worth a spin whatever the
        // back-off says (and a miss then says nothing about spinning in general).
        const eager = call.endpoint?.sender.peerPolls() === true;
        if (eager || this.#spin.shouldSpin()) {
          const caught = wake.spin(seen, Math.min(SPIN_MS, remaining));
          if (!eager) this.#spin.spun(caught);
          if (caught) continue;
        }
        // Before sleeping: a thread gone without a word (out of memory)? Its calls fail, or go
        // to another thread: look again from the top.
        if (this.#probe()) continue;
        wake.sleep(seen, Math.min(remaining, PROBE_MS));
      }
    } finally {
      for (const endpoint of held) endpoint.sender.holdCalls(false);
    }
  }

  /** Tells the policy of each endpoint whose thread is gone; true if one is. */
  #probe(): boolean {
    let gone = false;
    for (const endpoint of [...this.policy.endpoints()]) {
      const exit = endpoint.probe?.();
      if (exit === undefined) continue;
      this.policy.gone(endpoint, exit);
      gone = true;
    }
    return gone;
  }
}

function calledBack(call: Call): DeadlockError {
  return new DeadlockError(
    `resultSync() would block forever: task '${call.task.name}' called back into this thread's loop ` +
      "(mainLoop() or a loop handle), and that call cannot run while this thread blocks; await the future instead",
  );
}
