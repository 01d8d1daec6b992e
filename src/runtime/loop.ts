/**
 * Loops: the event loop of some thread, as a place to send tasks. A `Loop` is the address; a
 * `LoopClient` is the call table (core/calls.ts) over one connection to that thread, with no
 * queue in front beyond the calls waiting for a start/withdraw cell. The same client serves a
 * loop thread seen from the thread that started it, a loop handle sent to another thread, the
 * main loop seen from a worker, and the caller's own loop.
 */
import { CallTable, type Call, type CallPolicy } from '../core/calls.js';
import { Deque } from '../core/deque.js';
import { after } from '../core/timers.js';
import { Endpoint, type CallSender, type EndpointExit, type KeepAlive } from '../core/endpoint.js';
import { describe, type Future } from '../core/future.js';
import { openStream, type StreamChunk, type StreamReturn, type TaskStream } from '../core/stream.js';
import { toTask, type AnyFunction, type Runnable } from '../core/task.js';
import { prepareArgs } from '../wire/args.js';
import { LoopClosedError, TaskSerializationError } from '../wire/errors.js';
import { CallFlag } from '../wire/protocol.js';
import { toShared, type SharedDescriptor } from '../wire/shareable.js';
import type { Slots } from '../wire/slots.js';
import type { Wake } from '../wire/wake.js';
import type { UnobservedFailures } from '../core/unobserved.js';
import type { ConnectionEvents } from './connection.js';

/**
 * An event loop on some thread that tasks can be sent to — from any thread.
 *
 * @example
 * const loop = await startLoopThread({ name: 'db' });
 * const rows = await runCoroutineThreadsafe(db.query, loop, 'select 1');
 */
export interface Loop {
  /** The thread's name. */
  readonly name: string;
  /**
   * Runs `task(...args)` (sync or async) on this loop's thread; the Future settles here.
   * Same as `runCoroutineThreadsafe(task, loop, ...args)`.
   */
  submit<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): Future<Awaited<ReturnType<F>>>;
  /**
   * Runs `task(...args)` — an `async function*` or a task returning an (async) iterable — on this
   * loop's thread and yields its chunks here, with credit backpressure (see `executor.stream`).
   * @example for await (const event of loop.stream(feed.watch, 'orders')) handle(event);
   */
  stream<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): TaskStream<StreamChunk<ReturnType<F>>, StreamReturn<ReturnType<F>>>;
  /** Runs `task(...args)` on the loop's thread without a reply; calls from one thread run in order. */
  callSoonThreadsafe<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): void;
  /** True until the loop is stopped. */
  isRunning(): boolean;
  /** True once the loop is stopped. */
  isClosed(): boolean;
}

/** How a loop client reaches its loop. @internal */
export interface LoopClientOptions {
  /** The loop's name, for messages. */
  name: string;
  /** Where the loop is, for messages: 'worker thread', 'main thread', … */
  where: string;
  /** The connection to the loop's thread. */
  sender: CallSender;
  /** Start/withdraw cells of the calls sent there; undefined without shared memory. */
  slots: Slots | undefined;
  /** Bumped by the loop's side when it sends; undefined where blocking could never end. */
  wake: Wake | undefined;
  /** Held while calls are out, so none is dropped at exit; undefined where not needed. */
  keepAlive: KeepAlive | undefined;
  /** Whether the loop's thread is gone, asked by a blocked thread; see Endpoint.probe. */
  probe?: () => EndpointExit | undefined;
  /** How long an aborted call may run on before its future settles anyway (ms). Default 1,000. */
  abortGraceMs?: number;
  /** Whether a failed future nobody looked at is reported. Default 'warn'. */
  unobservedFailures?: UnobservedFailures;
  /** A fire-and-forget call failed: nobody awaits it, so it is reported here. */
  report: (error: unknown) => void;
  /** The loop's thread is gone: make the error its calls fail with. */
  lostError?: (exit: EndpointExit) => Error;
}

/** The calling side of a connection to a loop. @internal */
export class LoopClient implements CallPolicy, ConnectionEvents {
  readonly #table: CallTable;
  readonly endpoint: Endpoint;
  /** Calls waiting for a free start/withdraw cell, in order. */
  readonly #waiting = new Deque<Call>();
  #closed: Error | undefined = undefined;
  #idleWaiters: (() => void)[] = [];
  /** Called when the loop's thread reports READY. */
  onReady: (() => void) | undefined = undefined;

  constructor(readonly options: LoopClientOptions) {
    this.endpoint = new Endpoint(options.sender, options.slots, options.keepAlive, options.probe);
    this.#table = new CallTable(this, {
      abortGraceMs: options.abortGraceMs ?? 1000,
      callerStacks: false,
      wake: options.wake,
      cannotBlock: `resultSync() would block forever: only this thread's own loop (${options.name}) can settle this future; await it instead`,
      target: { loop: options.name },
      unobservedFailures: options.unobservedFailures,
    });
  }

  get name(): string {
    return this.options.name;
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** `detached`: nobody waits for the result (callSoonThreadsafe). */
  submit(runnable: Runnable<AnyFunction>, args: unknown[], detached = false): Future<unknown> {
    const task = toTask(runnable);
    if (this.#closed !== undefined) throw this.#closed;
    const prepared = prepareArgs(task, args, this.options.where, this.options.slots !== undefined);
    return this.#table.submit(task, prepared.args, prepared.flags | (detached ? CallFlag.Detached : 0), prepared.transfer);
  }

  stream<T, R = unknown>(runnable: Runnable<AnyFunction>, args: unknown[]): TaskStream<T, R> {
    const task = toTask(runnable);
    if (this.#closed !== undefined) throw this.#closed;
    const prepared = prepareArgs(task, args, this.options.where, this.options.slots !== undefined);
    return openStream(task, prepared.args, prepared.flags, (a, flags) => this.#table.submit(task, a, flags, prepared.transfer));
  }

  // ── the call table's policy ──────────────────────────────────────────────────────────────

  dispatch(call: Call): void {
    // Calls start in the order they were made: one waits while any earlier call waits.
    if (this.#waiting.size === 0 && this.endpoint.hasRoom()) {
      this.#table.send(call, this.endpoint);
    } else {
      this.#waiting.push(call);
      this.#sendWaiting();
    }
  }

  released(): void {}

  next(): void {
    if (this.#waiting.size > 0) this.#sendWaiting();
    if (this.#idleWaiters.length > 0 && this.#isIdle()) for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  /** Sends waiting calls while cells are free, dropping those settled meanwhile. */
  #sendWaiting(): void {
    while (this.#waiting.size > 0) {
      const next = this.#waiting.peek()!;
      if (next.state === 'queued') {
        if (!this.endpoint.hasRoom()) return;
        this.#table.send(next, this.endpoint);
      }
      this.#waiting.shift();
    }
  }

  stuck(call: Call): void {
    // A loop thread is not ended for one call: the future settles, and the task is named.
    this.#table.abandon(call);
    process.emitWarning(
      `task '${call.task.name}' on loop '${this.name}' ignored its abort for ${this.#table.options.abortGraceMs} ms: ` +
        'its future settled, but the task is still running on the loop thread',
      { code: 'THREADLOOP_ABORT_IGNORED' },
    );
  }

  endpoints(): readonly Endpoint[] {
    return this.#closed === undefined ? [this.endpoint] : [];
  }

  gone(_endpoint: Endpoint, exit: EndpointExit): void {
    this.close(this.options.lostError?.(exit) ?? new LoopClosedError(`loop '${this.name}' is gone`));
  }

  // ── connection events ────────────────────────────────────────────────────────────────────

  result(id: number, ok: boolean, value: unknown): void {
    const call = this.endpoint.calls.get(id);
    if (call !== undefined) this.#table.reply(call, ok, value);
  }

  control(): void {
    this.onReady?.();
  }

  // ── closing ──────────────────────────────────────────────────────────────────────────────

  #isIdle(): boolean {
    return this.endpoint.inflight === 0 && this.#waiting.size === 0;
  }

  /** Takes no more calls (they throw `error`); calls in flight go on. */
  refuse(error: Error): void {
    this.#closed ??= error;
  }

  /**
   * The loop is stopping: calls that have not started fail with `error` and never run; those
   * running have their signal fired and may still finish.
   */
  abortAll(error: Error): void {
    for (const call of this.#waiting.drain()) this.#table.drop(call, error, false);
    for (const call of [...this.endpoint.calls.values()]) {
      if (!this.#table.fail(call, error)) this.endpoint.sender.abort(call.id, error);
    }
  }

  /** Resolves when no call is in flight, or after `ms`. */
  idle(ms: number): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = after(ms, resolve);
      this.#idleWaiters.push(() => {
        timer.clear();
        resolve();
      });
    });
  }

  /**
   * The loop is gone: every call not settled fails with `error` (LoopClosedError, WorkerCrashedError…).
   * `portClosed`: the channel's port is closed, and nothing can be read from it any more (Node.js
   * 20 crashes reading a closed port).
   */
  close(error: Error, portClosed = false): void {
    // Replies the loop sent before it went may still wait in the channel: a call that finished
    // is not lost with the thread.
    if (!portClosed) this.endpoint.sender.receivePending();
    this.#closed ??= error;
    for (const call of this.#waiting.drain()) this.#table.drop(call, error, false);
    this.#table.lost(this.endpoint, () => error);
  }
}

/** A Loop whose calls go through a LoopClient. @internal */
export class ClientLoop implements Loop {
  constructor(
    readonly client: LoopClient,
    /** How it is sent to another thread (a new port to the loop's thread); undefined: it cannot be. */
    private readonly share?: () => SharedDescriptor,
  ) {}

  /** Sent to another thread: a handle of a loop thread gets a port of its own there. */
  [toShared](): SharedDescriptor {
    if (this.isClosed()) throw new LoopClosedError(`loop '${this.name}' is stopped and cannot be sent to another thread`);
    if (this.share === undefined) {
      throw new TaskSerializationError(
        `loop '${this.name}' cannot be sent to another thread: only a LoopThread (or a handle of one) can; ` +
          'mainLoop() and currentLoop() are reached by calling them on the thread that needs them',
      );
    }
    return this.share();
  }

  get name(): string {
    return this.client.name;
  }

  submit<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): Future<Awaited<ReturnType<F>>> {
    return this.client.submit(task as Runnable<AnyFunction>, args as unknown[]) as Future<Awaited<ReturnType<F>>>;
  }

  stream<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): TaskStream<StreamChunk<ReturnType<F>>, StreamReturn<ReturnType<F>>> {
    return this.client.stream(task as Runnable<AnyFunction>, args as unknown[]);
  }

  callSoonThreadsafe<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): void {
    // Answered like any call (so it holds the process open until it ran), but nobody awaits it:
    // a failure is reported instead.
    const future = this.client.submit(task as Runnable<AnyFunction>, args as unknown[], true);
    future.addDoneCallback(() => {
      void future.exception().then((error) => {
        if (error !== undefined) this.client.options.report(error);
      }, () => {});
    });
  }

  isRunning(): boolean {
    return !this.client.closed;
  }

  isClosed(): boolean {
    return this.client.closed;
  }

  toString(): string {
    return `Loop(${this.name})`;
  }
}

/**
 * Reports an error nobody awaits: one thrown by a fire-and-forget call, or (`died`) one a loop
 * thread died of, running no call. @internal
 */
export function reportUncaught(error: unknown, where: string, died = false): void {
  const text = error instanceof Error ? (error.stack ?? error.message) : describe(error);
  if (died) process.emitWarning(`${where} died, running no call: ${text}`, { code: 'THREADLOOP_WORKER_DIED' });
  else process.emitWarning(`a callSoonThreadsafe callback threw on ${where}: ${text}`, { code: 'THREADLOOP_CALLBACK_ERROR' });
}

/** Throws unless `loop` is a Loop. @internal */
export function checkLoop(loop: unknown): asserts loop is Loop {
  if (typeof loop !== 'object' || loop === null || typeof (loop as Loop).submit !== 'function') {
    throw new TypeError(`expected a Loop (from startLoopThread(), mainLoop() or currentLoop()), got ${describe(loop)}`);
  }
  if ((loop as Loop).isClosed()) throw new LoopClosedError(`loop '${(loop as Loop).name}' is stopped`);
}
