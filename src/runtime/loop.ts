/**
 * Loops: the event loop of some thread, as a place to send tasks. A `Loop` is the address; a
 * `LoopClient` is the calling side of one connection to that thread — it sends calls over the
 * Connection and settles their futures. The same client serves a loop thread seen from the
 * main thread, the main loop seen from a worker, and the caller's own loop.
 */
import { AbortError, DeadlockError, LoopClosedError, TimeoutError } from '../wire/errors.js';
import { Future, describe, type FutureLink } from '../core/future.js';
import { toTask, type AnyFunction, type Runnable, type Task } from '../core/task.js';
import { prepareArgs } from '../wire/args.js';
import { decodeError, type EncodedError } from '../wire/error-codec.js';
import { NO_SLOT, Op } from '../wire/protocol.js';
import type { Wake } from '../wire/wake.js';
import type { Connection, ConnectionEvents } from './connection.js';

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
  /** Runs `task(...args)` on the loop's thread without a reply; calls from one thread run in order. */
  callSoonThreadsafe<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): void;
  /** True until the loop is stopped. */
  isRunning(): boolean;
  /** True once the loop is stopped. */
  isClosed(): boolean;
}

interface Pending {
  readonly future: Future<unknown>;
  readonly task: Task;
  readonly onAbort: (() => void) | undefined;
  readonly timer: NodeJS.Timeout | undefined;
}

/** The calling side of a connection to a loop. @internal */
export class LoopClient implements ConnectionEvents, FutureLink {
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed: Error | undefined = undefined;
  #conn: Connection | undefined = undefined;
  #idleWaiters: (() => void)[] = [];
  /** Called when the loop's thread reports READY. */
  onReady: (() => void) | undefined = undefined;
  /**
   * Why the loop's thread is gone, asked without the event loop by `resultSync` (whose thread
   * cannot hear 'exit'); undefined while it runs. Set by the owner of a loop thread.
   */
  goneWhy: (() => Error | undefined) | undefined = undefined;

  constructor(
    readonly name: string,
    /** Bumped by the loop's side when it sends; undefined where blocking could never end. */
    readonly wakeIn: Wake | undefined,
    /** Where the loop is, for messages: 'worker thread', 'main thread', … */
    readonly where: string,
    /** Whether the loop's thread shares memory with this one (Shareables may be sent). */
    readonly sharedMemory: boolean,
    /** A `callSoonThreadsafe` call failed: nobody awaits it, so it is reported here. */
    readonly onUncaught: (error: unknown) => void,
    /** Keep this thread alive while calls are in flight (not for a worker's own channel). */
    readonly refWhileBusy = true,
  ) {}

  attach(conn: Connection): void {
    this.#conn = conn;
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  submit(runnable: Runnable<AnyFunction>, args: unknown[]): Future<unknown> {
    const task = toTask(runnable);
    if (this.#closed !== undefined) throw this.#closed;
    const future = new Future<unknown>();
    const { signal, timeoutMs } = task.options;
    if (signal?.aborted === true) {
      future.reject(new AbortError(`task '${task.name}' was aborted before it was submitted`, { cause: signal.reason }));
      return future;
    }
    const prepared = prepareArgs(task, args, this.where, this.sharedMemory);
    const id = this.#nextId;
    this.#nextId = id === 0x7fffffff ? 1 : id + 1;
    const conn = this.#conn!;
    // A call on a loop starts as soon as the loop reads it: there is no queue to take it back from.
    future.setRunning();
    let onAbort: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    if (signal !== undefined) {
      onAbort = () => this.#stop(id, new AbortError(`task '${task.name}' was aborted`, { cause: signal.reason }));
      signal.addEventListener('abort', onAbort, { once: true });
    }
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => this.#stop(id, new TimeoutError(`task '${task.name}' ran longer than its timeout of ${timeoutMs} ms`)), timeoutMs);
    }
    // Until it is answered, a call holds the process open: nothing sent is dropped at exit.
    if (this.#pending.size === 0 && this.refWhileBusy) conn.channel.ref();
    this.#pending.set(id, { future, task, onAbort, timer });
    future.link = this;
    conn.call(id, task, prepared.args, NO_SLOT, prepared.flags, prepared.transfer);
    return future;
  }

  /** The call was aborted or timed out here: fire its signal there, settle the future now. */
  #stop(id: number, error: AbortError | TimeoutError): void {
    if (!this.#pending.has(id)) return;
    this.#conn!.abort(id, error.cause ?? error);
    this.#settle(id, false, error);
  }

  result(id: number, ok: boolean, value: unknown): void {
    this.#settle(id, ok, ok ? value : decodeError(value as EncodedError));
  }

  control(op: number): void {
    if (op === Op.Ready) this.onReady?.();
  }

  #settle(id: number, ok: boolean, value: unknown): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    if (this.#pending.size === 0 && this.refWhileBusy) this.#conn?.channel.unref();
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    if (pending.onAbort !== undefined) pending.task.options.signal!.removeEventListener('abort', pending.onAbort);
    if (ok) pending.future.resolve(value);
    else pending.future.reject(value);
    if (this.#pending.size === 0 && this.#idleWaiters.length > 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  /** Takes no more calls (they throw `error`); calls in flight go on. */
  refuse(error: Error): void {
    this.#closed ??= error;
  }

  /** Fires the signal of every call in flight on the loop's side. */
  abortAll(reason: unknown): void {
    for (const id of this.#pending.keys()) this.#conn!.abort(id, reason);
  }

  /** Resolves when no call is in flight, or after `ms`. */
  idle(ms: number): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** No more calls: each pending future rejects with `error` (LoopClosedError, WorkerCrashedError…). */
  close(error: Error): void {
    this.#closed ??= error;
    for (const id of [...this.#pending.keys()]) this.#settle(id, false, error);
  }

  // FutureLink: calls on a loop cannot be taken back once sent.
  withdraw(): boolean {
    return false;
  }

  hasStarted(): boolean {
    return true;
  }

  waitSync(future: Future<unknown>, deadline: number): void {
    const wake = this.wakeIn;
    if (wake === undefined) {
      throw new DeadlockError(`resultSync() would block forever: only this thread's own loop (${this.name}) can settle this future; await it instead`);
    }
    const conn = this.#conn!;
    for (;;) {
      const seen = wake.read();
      conn.flush();
      conn.receivePending();
      if (future.done()) return;
      const gone = this.goneWhy?.();
      if (gone !== undefined) {
        this.close(gone);
        return;
      }
      conn.flush();
      if (this.#closed !== undefined) return;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return;
      wake.sleep(seen, this.goneWhy === undefined ? remaining : Math.min(remaining, GONE_CHECK_MS));
    }
  }
}

/** How often `resultSync` looks for a loop thread that stopped without a word (out of memory). */
const GONE_CHECK_MS = 50;

/** A Loop whose calls go through a LoopClient. @internal */
export class ClientLoop implements Loop {
  constructor(readonly client: LoopClient) {}

  get name(): string {
    return this.client.name;
  }

  submit<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): Future<Awaited<ReturnType<F>>> {
    return this.client.submit(task as Runnable<AnyFunction>, args as unknown[]) as Future<Awaited<ReturnType<F>>>;
  }

  callSoonThreadsafe<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): void {
    // Answered like any call (so it holds the process open until it ran), but nobody awaits it:
    // a failure is reported instead.
    const future = this.client.submit(task as Runnable<AnyFunction>, args as unknown[]);
    future.addDoneCallback(() => {
      void future.exception().then((error) => {
        if (error !== undefined) this.client.onUncaught(error);
      });
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

/** Reports an error thrown by a fire-and-forget call where nobody awaits it. @internal */
export function reportUncaught(error: unknown, where: string): void {
  const text = error instanceof Error ? (error.stack ?? error.message) : describe(error);
  process.emitWarning(`a callSoonThreadsafe callback threw on ${where}: ${text}`, { code: 'THREADLOOP_CALLBACK_ERROR' });
}

/** Throws unless `loop` is a Loop. @internal */
export function checkLoop(loop: unknown): asserts loop is Loop {
  if (typeof loop !== 'object' || loop === null || typeof (loop as Loop).submit !== 'function') {
    throw new TypeError(`expected a Loop (from startLoopThread(), mainLoop() or currentLoop()), got ${describe(loop)}`);
  }
  if ((loop as Loop).isClosed()) throw new LoopClosedError(`loop '${(loop as Loop).name}' is stopped`);
}
