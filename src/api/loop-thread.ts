/**
 * Loop threads: a thread whose event loop runs until it is stopped (asyncio's new loop +
 * `run_forever` in a `threading.Thread`), `runCoroutineThreadsafe` to send it work, and
 * `startThread` for one task on a fresh thread (`Thread(target=lambda: asyncio.run(c))`).
 *
 * A loop thread runs the same worker runtime as a pool worker; it just has no queue in front.
 */
import { EventEmitter } from 'node:events';
import type { ResourceLimits } from 'node:worker_threads';
import { crashError } from '../core/endpoint.js';
import { LoopClosedError } from '../wire/errors.js';
import { describe, refuseUnknownOptions, type Future } from '../core/future.js';
import { checkEnvAndFlags, checkUnobservedFailures, duration } from '../core/executor.js';
import type { UnobservedFailures } from '../core/unobserved.js';
import { checkResourceLimits } from './thread-pool.js';
import { defaultWorkerEntry, threadTransport } from '../runtime/thread-transport.js';
import { exitProbe, type SpawnedWorker, type WorkerExit } from '../runtime/transport.js';
import { Connection } from '../runtime/connection.js';
import { checkLoop, ClientLoop, LoopClient, reportUncaught, type Loop } from '../runtime/loop.js';
import { prepareArgs } from '../wire/args.js';
import { Op } from '../wire/protocol.js';
import { noteShareableCreated, toShared, type SharedDescriptor } from '../wire/shareable.js';
import { attachment, LoopCell, LoopEnd, nameLoop, type LoopIdentity } from '../runtime/loops.js';
import { Slots } from '../wire/slots.js';
import { Wake } from '../wire/wake.js';
import { toTask, type AnyFunction, type Runnable } from '../core/task.js';
import type { StreamChunk, StreamReturn, TaskStream } from '../core/stream.js';

/** Options of `startLoopThread`. */
export interface LoopThreadOptions {
  /** The thread's name. Default `loop-<n>`. */
  name?: string | undefined;
  /** Environment of the thread. Default: a copy of `process.env`. */
  env?: Record<string, string | undefined>;
  /** Node.js flags of the thread. */
  execArgv?: string[] | undefined;
  /** Heap limits of the thread. */
  resourceLimits?: ResourceLimits | undefined;
  /** How long `stop()` lets calls in flight finish after aborting them. Default 1,000 ms. */
  stopGraceMs?: number | undefined;
  /**
   * How long an aborted (or timed-out) call may run on before its future settles anyway, with
   * a `THREADLOOP_ABORT_IGNORED` warning naming the task: a loop thread is never ended for one
   * call. Default 1,000 ms.
   */
  abortGraceMs?: number | undefined;
  /** The worker runtime's entry script (bundled apps). */
  workerEntry?: URL | string | undefined;
  /**
   * `'ignore'`: no `THREADLOOP_UNOBSERVED_FAILURE` warning for a failed future of this loop that
   * nobody looked at (see `ExecutorOptions.unobservedFailures`). Default `'warn'`.
   */
  unobservedFailures?: UnobservedFailures | undefined;
}

let loopCount = 0;

/**
 * A thread running its own event loop until `stop()`. Send it work with `submit` (or
 * `runCoroutineThreadsafe`) from any thread; timers and I/O it starts keep running between
 * calls, and module state persists. An idle loop thread does not keep the process alive.
 * Emits `'error'` when a `callSoonThreadsafe` callback throws (a warning if nobody listens).
 *
 * @example
 * const loop = await startLoopThread({ name: 'cache' });
 * await loop.submit(cache.warm);
 * loop.callSoonThreadsafe(cache.log, 'warmed');
 * await loop.stop();
 */
export class LoopThread extends EventEmitter implements Loop {
  readonly #client: LoopClient;
  readonly #conn: Connection;
  readonly #loop: ClientLoop;
  readonly #spawned: SpawnedWorker;
  readonly #stopGraceMs: number;
  readonly #exited: Promise<WorkerExit>;
  #stopping: Promise<void> | undefined = undefined;
  /** How the thread ended (LoopEnd), for the handles sent to other threads: cells they all share (AttachedLoopState.end). */
  readonly #end = new Int32Array(new SharedArrayBuffer(LoopCell.count * 4));
  /** What every handle sent to another thread carries (LoopIdentity). */
  readonly #identity: LoopIdentity;

  /** @internal use startLoopThread() */
  /** `ready` settles the start; it says whether it did (false: the start was settled already). */
  constructor(name: string, options: LoopThreadOptions, ready: (error?: unknown) => boolean) {
    super();
    this.#stopGraceMs = options.stopGraceMs ?? 1000;
    const wakeCaller = new Wake();
    const wakeWorker = new Wake();
    const slots = new Slots();
    const backSlots = new Slots();
    this.#spawned = threadTransport({
      entry: options.workerEntry ?? defaultWorkerEntry,
      env: options.env,
      execArgv: options.execArgv,
      resourceLimits: options.resourceLimits,
      idleSpinMs: 0, // a loop thread's own event loop must run freely
    }).spawn({
      slots: slots.buffer,
      backSlots: backSlots.buffer,
      wakeCaller: wakeCaller.buffer,
      wakeWorker: wakeWorker.buffer,
      linger: undefined,
      initializer: undefined,
      initArgs: [],
      name,
    });
    const events = {
      result: (id: number, ok: boolean, value: unknown) => this.#client.result(id, ok, value),
      control: () => this.#client.control(),
    };
    this.#conn = new Connection(this.#spawned.channel, events, backSlots, wakeWorker);
    this.#client = new LoopClient({
      name,
      where: 'worker thread',
      sender: this.#conn,
      slots,
      wake: wakeCaller,
      keepAlive: this.#spawned.channel,
      probe: exitProbe(wakeWorker, this.#spawned),
      abortGraceMs: options.abortGraceMs,
      unobservedFailures: options.unobservedFailures,
      report: (error) => this.#uncaught(error),
      lostError: (exit) => this.#lostError(exit),
    });
    noteShareableCreated(); // a LoopThread can be passed to other threads
    nameLoop(this.#end); // (a thread that gets its handle many times keeps one)
    const { abortGraceMs, unobservedFailures } = options;
    this.#identity = { name, end: this.#end.buffer as SharedArrayBuffer, abortGraceMs, unobservedFailures };
    this.#client.onReady = () => {
      this.#spawned.channel.unref(); // from now on, only calls in flight hold the process open
      ready();
    };
    this.#loop = new ClientLoop(this.#client);
    this.#exited = new Promise((resolve) => {
      this.#spawned.onExit((exit) => {
        Atomics.store(this.#end, LoopCell.end, this.#stopping !== undefined ? LoopEnd.stopped : LoopEnd.died);
        const error = this.#lostError(exit);
        const idle = this.#client.endpoint.inflight === 0;
        this.#client.close(error);
        const startFailed = ready(error);
        // Dead of an uncaught error (a stray timer's throw) while running no call: reported as a
        // throwing callSoonThreadsafe callback is, never lost. (With calls, they fail with it; one
        // that never started failed its start.)
        if (this.#stopping === undefined && exit.error !== undefined && !startFailed && idle) this.#uncaught(error, true);
        this.emit('exit', exit);
        resolve(exit);
      });
    });
  }

  get name(): string {
    return this.#client.name;
  }

  /**
   * Runs `task(...args)` on this thread; sync or async; the Future settles on the caller's side.
   * @example const n = await loop.submit(counter.increment);
   */
  submit<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): Future<Awaited<ReturnType<F>>> {
    return this.#loop.submit(task, ...args);
  }

  /**
   * Runs `task(...args)` — an `async function*` — on this thread and yields its chunks here, with
   * credit backpressure; leaving the `for await` early runs the generator's `return()` there.
   * @example for await (const tick of loop.stream(clock.ticks, 10)) console.log(tick);
   */
  stream<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): TaskStream<StreamChunk<ReturnType<F>>, StreamReturn<ReturnType<F>>> {
    return this.#loop.stream(task, ...args);
  }

  /**
   * Runs `task(...args)` on this thread, fire and forget; calls from one thread run in order.
   * @example loop.callSoonThreadsafe(log.write, 'hello');
   */
  callSoonThreadsafe<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): void {
    this.#loop.callSoonThreadsafe(task, ...args);
  }

  isRunning(): boolean {
    return this.#loop.isRunning();
  }

  isClosed(): boolean {
    return this.#loop.isClosed();
  }

  /**
   * How many handles of this loop other threads hold now: a port each to this loop's thread. A
   * thread keeps one handle of a loop however many calls bring it, until it ends (or the loop
   * stops); the handle of a call that never runs (cancelled, refused by a full queue) is let go.
   * So this stays at most one per thread that got the loop. 0 once the loop ended.
   *
   * @example
   * await pool.submit(work, loop); // `work` gets a handle of `loop`; the worker keeps it
   * console.log(loop.openHandles); // 1 (once the loop hears of extra ones closed), however many such calls
   */
  get openHandles(): number {
    // (Its thread gone, every port it served is closed: no handle is open, whatever it last counted.)
    return Atomics.load(this.#end, LoopCell.end) === LoopEnd.running ? Atomics.load(this.#end, LoopCell.handles) : 0;
  }

  /**
   * Stops the loop: new calls throw `LoopClosedError`; calls in flight have their signal aborted
   * and `stopGraceMs` to finish; then the thread ends and any call still pending rejects with
   * `LoopClosedError` — none is left pending. Idempotent.
   *
   * @example await loop.stop();
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const closed = new LoopClosedError(`loop '${this.name}' is stopped`);
      this.#client.refuse(closed);
      this.#client.abortAll(closed);
      await this.#client.idle(this.#stopGraceMs);
      this.#spawned.terminate();
      await this.#exited;
    })();
    return this.#stopping;
  }

  /**
   * Sent to another thread (as a task argument), a LoopThread arrives as a Loop with its own
   * direct channel to this loop's thread: calls from there do not pass through this thread.
   */
  [toShared](): SharedDescriptor {
    if (this.isClosed()) throw new LoopClosedError(`loop '${this.name}' is stopped and cannot be sent to another thread`);
    return attachment(this.#identity, (attached, transfer) => this.#conn.control(Op.Attach, attached, transfer));
  }

  /** `await using loop = await startLoopThread()` stops it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** What calls still pending fail with once the thread is gone. */
  #lostError(exit: WorkerExit): Error {
    if (this.#stopping !== undefined) return new LoopClosedError(`loop '${this.name}' was stopped before the call finished`);
    return crashError(`loop thread '${this.name}'`, exit);
  }

  #uncaught(error: unknown, died = false): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else reportUncaught(error, `loop thread '${this.name}'`, died);
  }
}

/**
 * Starts a thread running its own event loop; resolves once it is ready for calls.
 *
 * @example
 * const loop = await startLoopThread({ name: 'worker-loop' });
 * const f = runCoroutineThreadsafe(tasks.fetchAll, loop, urls);
 * f.addDoneCallback((f) => console.log('done', f.state));
 */
export function startLoopThread(options: LoopThreadOptions = {}): Promise<LoopThread> {
  checkLoopOptions(options);
  return new Promise((resolve, reject) => {
    let settled = false;
    const loop: LoopThread = new LoopThread(options.name ?? `loop-${++loopCount}`, options, (error) => {
      if (settled) return false;
      settled = true;
      if (error === undefined) resolve(loop);
      else reject(error);
      return true;
    });
  });
}

/**
 * Runs `task(...args)` (sync or async) on `loop`'s thread and returns a Future — from any
 * thread, to any loop: a loop thread, `mainLoop()`, or `currentLoop()`.
 * Throws `LoopClosedError` if the loop is stopped.
 *
 * @example
 * const f = runCoroutineThreadsafe(async (ms) => { await new Promise((r) => setTimeout(r, ms)); return ms; }, loop, 100);
 * console.log(f.resultSync({ timeoutMs: 5000 })); // 100
 */
export function runCoroutineThreadsafe<F extends AnyFunction>(
  task: Runnable<F>,
  loop: Loop,
  ...args: Parameters<F>
): Future<Awaited<ReturnType<F>>> {
  checkLoop(loop);
  return loop.submit(task, ...args);
}

/** A thread running one task, from `startThread`. */
export interface ThreadHandle<T> {
  /** Resolves with the task's result (rejects with its error) once the thread has ended. */
  join(): Promise<T>;
}

/**
 * Runs one task on a fresh thread with its own event loop, which ends when the task does —
 * Python's `threading.Thread(target=lambda: asyncio.run(coro))`. It cannot use the main
 * thread's resources except through `mainLoop()`; for many calls, prefer a pool or a loop thread.
 *
 * @example
 * const t = startThread(async (url) => (await fetch(url)).status, 'http://127.0.0.1:8080/');
 * console.log(await t.join());
 */
export function startThread<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): ThreadHandle<Awaited<ReturnType<F>>> {
  const t = toTask(task);
  prepareArgs(t, args as unknown[], 'worker thread', true); // fail here, not later, on bad arguments
  let joined = false;
  const run = async (): Promise<Awaited<ReturnType<F>>> => {
    const loop = await startLoopThread({ name: `thread-${t.name}` });
    try {
      const value: unknown = await loop.submit(t, ...args);
      return value as Awaited<ReturnType<F>>;
    } finally {
      await loop.stop();
    }
  };
  const result = run();
  result.catch((error: unknown) => {
    if (!joined) reportUncaught(error, `thread '${t.name}' (nobody joined it)`);
  });
  return {
    join() {
      joined = true;
      return result;
    },
  };
}

const LOOP_OPTIONS = new Set(['name', 'env', 'execArgv', 'resourceLimits', 'stopGraceMs', 'abortGraceMs', 'workerEntry', 'unobservedFailures']);

function checkLoopOptions(options: LoopThreadOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError(`startLoopThread options must be an object, got ${describe(options)}`);
  refuseUnknownOptions('startLoopThread', options, LOOP_OPTIONS);
  if (options.name !== undefined && typeof options.name !== 'string') throw new TypeError(`startLoopThread: name must be a string, got ${describe(options.name)}`);
  checkEnvAndFlags('startLoopThread', options.env, options.execArgv);
  checkResourceLimits(options.resourceLimits, 'startLoopThread');
  duration('startLoopThread', 'stopGraceMs', options.stopGraceMs, 0);
  duration('startLoopThread', 'abortGraceMs', options.abortGraceMs, 0);
  checkUnobservedFailures('startLoopThread', options.unobservedFailures);
}
