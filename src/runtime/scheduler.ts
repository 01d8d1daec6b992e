/**
 * The scheduling core of every pool: a queue in front of N workers.
 *
 * - Tasks are sent to the least-loaded worker, several ahead, so a worker always has its next
 *   task at hand and a burst of tasks travels as one message. A worker that runs dry takes back
 *   (steals) unstarted tasks from the busiest one, so a slow task never holds others hostage.
 * - A task that can be aborted (a signal or a timeout) runs alone on its worker, because ending
 *   it may mean terminating that worker.
 * - Every future settles exactly once: when its result arrives, when it is cancelled or aborted,
 *   when its worker dies (tasks it had not started go back to the queue), or when the executor
 *   breaks.
 *
 * The scheduler knows nothing of threads or processes; a Transport makes the workers.
 */
import { decodeError, type EncodedError } from '../wire/error-codec.js';
import { availableParallelism } from 'node:os';
import type { TransferListItem } from 'node:worker_threads';
import { Op, type LingerSettings, type WorkerBootstrap } from '../wire/protocol.js';
import { Slots } from '../wire/slots.js';
import { Wake } from '../wire/wake.js';
import { toTask, type Task } from '../core/task.js';
import {
  AbortError,
  BrokenExecutorError,
  CancelledError,
  DeadlockError,
  ExecutorShutdownError,
  QueueFullError,
  TimeoutError,
  WorkerCrashedError,
} from '../wire/errors.js';
import { Deque } from '../core/deque.js';
import type { ResolvedOptions } from '../core/executor.js';
import { Future } from '../core/future.js';
import { PoolWorker } from './pool-worker.js';
import { Samples, type ExecutorStats } from '../core/stats.js';
import { TaskRecord } from './task-record.js';
import { STOPPED_WITHOUT_EXIT, type SpawnedWorker, type Transport, type WorkerExit } from './transport.js';

/**
 * Most calls in flight to one worker: deep enough that a worker still has calls queued while this
 * thread settles its last batch of results and sends the next (an idle worker must be woken, and
 * on a VM the wake-up costs the sender tens of microseconds), shallow enough to steal from.
 */
const MAX_IN_FLIGHT = 512;
/**
 * Idle thread workers spin for their next call before sleeping (runtime/linger.ts), never more
 * of them at once, over every pool of this process, than there are cores but one.
 */
let lingerPlaces: Int32Array | undefined;
let lingerTokens = 0;

function lingerSettings(budgetMs: number): LingerSettings {
  lingerPlaces ??= new Int32Array(new SharedArrayBuffer(4 * Math.max(0, availableParallelism() - 1)));
  return { budgetMs, places: lingerPlaces.buffer as SharedArrayBuffer, token: ++lingerTokens };
}

/** Frees the place a worker that died while lingering still holds (its own `finally` did not run). */
function releaseLingerPlace(token: number): void {
  if (lingerPlaces === undefined) return;
  for (let i = 0; i < lingerPlaces.length; i++) Atomics.compareExchange(lingerPlaces, i, token, 0);
}

/** How often `resultSync` looks for a worker that stopped without a word (out of memory). */
const STOPPED_CHECK_MS = 50;

type State = 'running' | 'shutdown' | 'broken';

export class Scheduler {
  readonly #queue = new Deque<TaskRecord>();
  /** Live records in the queue (the deque may also hold withdrawn ones, skipped later). */
  #queued = 0;
  readonly #workers: PoolWorker[] = [];
  #live = 0;
  #spawned = 0;
  #state: State = 'running';
  #broken: BrokenExecutorError | undefined = undefined;
  #nextId = 1;
  #completed = 0;
  #failed = 0;
  #cancelled = 0;
  readonly #runTimes = new Samples();
  readonly #waitTimes = new Samples();
  /** Every worker bumps this after sending a frame, so `resultSync` can sleep until one does. */
  readonly #wake: Wake | undefined;
  readonly #initializer: Task | undefined;
  #roomWaiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  #drainWaiters: (() => void)[] = [];
  #shutdownDone: Promise<void> | undefined = undefined;
  readonly #exited = new Set<Promise<void>>();

  constructor(
    readonly options: ResolvedOptions,
    readonly transport: Transport,
  ) {
    this.#wake = transport.sharedMemory ? new Wake() : undefined;
    this.#initializer = options.initializer === undefined ? undefined : toTask(options.initializer);
    for (let i = 0; i < options.minWorkers; i++) this.#spawn();
  }

  // ── submitting ───────────────────────────────────────────────────────────────────────────

  /** Throws why a new task cannot be taken, if it cannot. */
  checkOpen(): void {
    if (this.#broken !== undefined) throw this.#broken;
    if (this.#state !== 'running') throw new ExecutorShutdownError(`executor '${this.options.name}' is shut down`);
  }

  /** Whether one more task fits without going over `maxQueue`. */
  hasRoom(exclusive = false): boolean {
    if (this.#queued < this.options.maxQueue) return true;
    return this.#queued === 0 && this.#pickWorker(exclusive) !== undefined;
  }

  /** Queues a task whose arguments are ready to send; returns its future. */
  submit(task: Task, args: unknown[], flags: number, transfer: readonly TransferListItem[] | undefined): Future<unknown> {
    this.checkOpen();
    const future = new Future<unknown>();
    const { signal, timeoutMs } = task.options;
    if (signal?.aborted === true) {
      future.reject(new AbortError(`task '${task.name}' was aborted before it was submitted`, { cause: signal.reason }));
      return future;
    }
    if (!this.hasRoom(signal !== undefined || timeoutMs !== undefined)) {
      throw new QueueFullError(`executor '${this.options.name}' has ${this.#queued} tasks queued (maxQueue ${this.options.maxQueue})`);
    }
    const stack = this.options.callerStacks ? new Error('submitted here') : undefined;
    const id = this.#nextId;
    this.#nextId = id === 0x7fffffff ? 1 : id + 1; // ids stay positive int32s (see slots.ts)
    const now = performance.now();
    const record = new TaskRecord(this, id, task, args, flags, transfer, future, now, stack);
    future.link = record;
    if (signal !== undefined) {
      record.onAbort = () => this.#stop(record, new AbortError(`task '${task.name}' was aborted`, { cause: signal.reason }));
      signal.addEventListener('abort', record.onAbort, { once: true });
    }
    record.queued = true;
    this.#queue.push(record);
    this.#queued++;
    this.#pump(now);
    return future;
  }

  /** Resolves when `hasRoom()` may have become true (or the executor closed). */
  waitForRoom(): Promise<void> {
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  // ── dispatching ──────────────────────────────────────────────────────────────────────────

  /**
   * Sends queued tasks to workers while any can take one. `now`, when the caller has just read
   * the clock, saves reading it again (three reads per task showed in profiles).
   */
  #pump(now?: number): void {
    while (this.#queued > 0) {
      const record = this.#queue.peek()!;
      if (!record.queued) {
        this.#queue.shift();
        continue;
      }
      const worker = this.#pickWorker(record.exclusive);
      if (worker === undefined) break;
      this.#queue.shift();
      record.queued = false;
      this.#queued--;
      this.#send(record, worker, (now ??= performance.now()));
    }
    this.#notifyWaiters();
  }

  /** An idle worker, else a new one, else the least loaded with room (never for exclusive tasks). */
  #pickWorker(exclusive: boolean): PoolWorker | undefined {
    let best: PoolWorker | undefined;
    for (const worker of this.#workers) {
      if (worker.retiring || worker.exclusive !== undefined) continue;
      if (worker.tasksRun + worker.inflight >= this.options.maxTasksPerWorker) continue; // due for recycling
      if (worker.inflight === 0) return worker;
      if (best === undefined || worker.inflight < best.inflight) best = worker;
    }
    if (this.#live < this.options.maxWorkers && this.#broken === undefined) return this.#spawn();
    if (exclusive || best === undefined) return undefined;
    return best.inflight < this.#window ? best : undefined;
  }

  /**
   * How many calls a busy worker may be sent ahead. Without shared memory a sent call cannot be
   * taken back, and with a bounded queue the queue must show all waiting work: one at a time.
   */
  get #window(): number {
    return this.transport.sharedMemory && this.options.maxQueue === Infinity ? MAX_IN_FLIGHT : 1;
  }

  #send(record: TaskRecord, worker: PoolWorker, now: number): void {
    if (worker.idleTimer !== undefined) {
      clearTimeout(worker.idleTimer);
      worker.idleTimer = undefined;
    }
    record.worker = worker;
    this.#waitTimes.add(now - record.at);
    record.at = now;
    record.slot = worker.add(record);
    if (record.exclusive) {
      worker.exclusive = record;
      const { timeoutMs } = record.task.options;
      if (timeoutMs !== undefined) {
        record.timer = setTimeout(
          () => this.#stop(record, new TimeoutError(`task '${record.task.name}' ran longer than its timeout of ${timeoutMs} ms`)),
          timeoutMs,
        );
      }
    }
    worker.conn.call(record.id, record.task, record.args, record.slot, record.flags, record.transfer);
  }

  /** A worker ran dry: take half of the busiest worker's unstarted tasks. */
  #steal(thief: PoolWorker): void {
    if (!this.transport.sharedMemory) return;
    let victim: PoolWorker | undefined;
    for (const worker of this.#workers) {
      if (worker !== thief && !worker.dead && worker.inflight > 1 && (victim === undefined || worker.inflight > victim.inflight)) {
        victim = worker;
      }
    }
    if (victim === undefined) return;
    const stolen: TaskRecord[] = [];
    const candidates = [...victim.records.values()];
    for (let i = candidates.length - 1; i >= 0 && stolen.length < candidates.length >> 1; i--) {
      const record = candidates[i]!;
      if (record.transfer !== undefined || !victim.withdraw(record)) break;
      stolen.push(record);
    }
    const now = performance.now();
    for (let i = stolen.length - 1; i >= 0; i--) this.#send(stolen[i]!, thief, now);
  }

  // ── settling ─────────────────────────────────────────────────────────────────────────────

  #onResult(worker: PoolWorker, id: number, ok: boolean, value: unknown): void {
    const record = worker.records.get(id);
    if (record === undefined) return;
    const now = performance.now();
    this.#runTimes.add(now - record.at);
    worker.tasksRun++;
    if (record.stopError !== undefined) this.#settle(record, false, record.stopError);
    else if (ok) this.#settle(record, true, value);
    else this.#settle(record, false, decodeError(value as EncodedError, record.callerStack?.stack));
    if (worker.tasksRun >= this.options.maxTasksPerWorker && !worker.retiring) this.#retire(worker, false);
    if (worker.inflight === 0) this.#onWorkerIdle(worker);
    this.#pump(now);
  }

  /** Settles a record's future and forgets the record everywhere. */
  #settle(record: TaskRecord, ok: boolean, value: unknown, cancelled = false): void {
    record.worker?.remove(record);
    record.worker = undefined;
    if (record.queued) {
      record.queued = false;
      this.#queued--;
    }
    if (record.timer !== undefined) clearTimeout(record.timer);
    if (record.onAbort !== undefined) record.task.options.signal!.removeEventListener('abort', record.onAbort);
    if (cancelled) {
      this.#cancelled++;
      record.future.cancelWith(value);
    } else if (ok) {
      this.#completed++;
      record.future.resolve(value);
    } else {
      this.#failed++;
      record.future.reject(value);
    }
  }

  #onWorkerIdle(worker: PoolWorker): void {
    if (worker.retiring) {
      this.#retire(worker, true);
      return;
    }
    if (this.#queued === 0) this.#steal(worker);
    if (worker.inflight > 0) return;
    if (this.#live > this.options.minWorkers && this.options.idleTimeoutMs !== Infinity && worker.idleTimer === undefined) {
      worker.idleTimer = setTimeout(() => {
        worker.idleTimer = undefined;
        if (worker.inflight === 0 && this.#live > this.options.minWorkers) this.#retire(worker, true);
      }, this.options.idleTimeoutMs);
      worker.idleTimer.unref();
    }
  }

  // ── withdrawing, aborting, timing out ────────────────────────────────────────────────────

  /** A future's `cancel()`: take the task back if it has not started. */
  withdraw(record: TaskRecord): boolean {
    if (record.queued) {
      this.#settle(record, false, new CancelledError(), true);
      this.#pump();
      return true;
    }
    const worker = record.worker;
    if (worker === undefined || !worker.withdraw(record)) return false;
    record.worker = undefined;
    this.#settle(record, false, new CancelledError(), true);
    if (worker.inflight === 0) this.#onWorkerIdle(worker);
    this.#pump();
    return true;
  }

  /**
   * Aborts or times out a task: a queued or unstarted one settles at once; a running one has its
   * signal fired, and if it has not settled after `abortGraceMs` its worker is terminated.
   */
  #stop(record: TaskRecord, error: AbortError | TimeoutError): void {
    if (record.future.done() || record.stopError !== undefined) return;
    const worker = record.worker;
    if (record.queued || (worker !== undefined && worker.withdraw(record))) {
      record.worker = undefined;
      this.#settle(record, false, error);
      if (worker !== undefined && worker.inflight === 0) this.#onWorkerIdle(worker);
      this.#pump();
      return;
    }
    if (worker === undefined) return;
    record.stopError = error;
    worker.conn.abort(record.id, error.cause ?? error);
    if (record.timer !== undefined) clearTimeout(record.timer);
    record.timer = setTimeout(() => {
      if (!record.future.done()) this.#retire(worker, true);
    }, this.options.abortGraceMs);
  }

  // ── workers coming and going ─────────────────────────────────────────────────────────────

  #spawn(): PoolWorker | undefined {
    const index = this.#spawned++;
    const slots = this.transport.sharedMemory ? new Slots() : undefined;
    const wakeWorker = this.transport.sharedMemory ? new Wake() : undefined;
    const boot: WorkerBootstrap = {
      slots: slots?.buffer,
      wakeCaller: this.#wake?.buffer,
      wakeWorker: wakeWorker?.buffer,
      linger: wakeWorker === undefined || this.transport.idleSpinMs <= 0 ? undefined : lingerSettings(this.transport.idleSpinMs),
      initializer: this.#initializer?.ref,
      initArgs: this.options.initArgs,
      name: `${this.options.name}#${index}`,
    };
    let spawned: SpawnedWorker;
    try {
      spawned = this.transport.spawn(boot);
    } catch (cause) {
      // Refused at once (e.g. invalid execArgv): no worker of this executor could ever start.
      this.#break(new BrokenExecutorError(`a ${this.transport.kind} of executor '${this.options.name}' could not start: ${messageOf(cause)}`, { cause }));
      return undefined;
    }
    const worker: PoolWorker = new PoolWorker(index, spawned, slots, wakeWorker, {
      result: (id, ok, value) => this.#onResult(worker, id, ok, value),
      control: (op, value) => this.#onControl(worker, op, value),
    });
    this.#workers.push(worker);
    this.#live++;
    let exited!: () => void;
    const exit = new Promise<void>((resolve) => (exited = resolve));
    this.#exited.add(exit);
    spawned.onExit((info) => {
      if (boot.linger !== undefined) releaseLingerPlace(boot.linger.token);
      this.#exited.delete(exit);
      this.#onExit(worker, info);
      exited();
    });
    return worker;
  }

  #onControl(worker: PoolWorker, op: number, value: unknown): void {
    if (op === Op.Ready) {
      worker.ready = true;
    } else if (op === Op.Dying) {
      worker.dyingOf = decodeError(value as EncodedError);
    } else if (op === Op.Failed) {
      const cause = decodeError(value as EncodedError);
      this.#break(new BrokenExecutorError(`the initializer of executor '${this.options.name}' failed: ${messageOf(cause)}`, { cause }));
    }
  }

  /** Stops a worker on purpose; `now` terminates it, otherwise it finishes its tasks first. */
  #retire(worker: PoolWorker, now: boolean): void {
    if (!worker.retiring) {
      worker.retiring = true;
      this.#live--;
    }
    if (now || worker.inflight === 0) {
      worker.spawned.channel.ref(); // hold on until its exit is heard
      worker.spawned.terminate();
    }
  }

  #onExit(worker: PoolWorker, exit: WorkerExit): void {
    if (worker.dead) return; // already handled from resultSync
    if (exit.error === undefined && worker.dyingOf !== undefined) exit = { ...exit, error: worker.dyingOf };
    // Results the worker sent before it died may still wait in the channel: take them first, so
    // a task that finished is not counted as crashed.
    worker.conn.receivePending();
    worker.dead = true;
    worker.conn.close();
    if (worker.idleTimer !== undefined) clearTimeout(worker.idleTimer);
    this.#workers.splice(this.#workers.indexOf(worker), 1);
    if (!worker.retiring) this.#live--;
    const crashed = !worker.retiring || worker.inflight > 0;
    if (!worker.ready && !worker.retiring && this.#broken === undefined) {
      const cause = exit.error ?? new Error(describeExit(exit));
      this.#break(new BrokenExecutorError(`a ${this.transport.kind} of executor '${this.options.name}' could not start: ${messageOf(cause)}`, { cause }));
    }
    const requeue: TaskRecord[] = [];
    for (const record of [...worker.records.values()]) {
      if (record.stopError !== undefined) {
        this.#settle(record, false, record.stopError);
      } else if (this.#broken !== undefined) {
        this.#settle(record, false, this.#broken);
      } else if (record.transfer === undefined && worker.withdraw(record)) {
        requeue.push(record);
      } else {
        this.#settle(record, false, this.#crashError(worker, record, exit));
      }
    }
    for (let i = requeue.length - 1; i >= 0; i--) {
      const record = requeue[i]!;
      record.worker = undefined;
      record.queued = true;
      this.#queue.unshift(record);
      this.#queued++;
    }
    if (crashed && this.#broken === undefined) {
      while (this.#live < this.options.minWorkers && this.#state === 'running' && this.#broken === undefined) this.#spawn();
    }
    this.#pump();
  }

  #crashError(worker: PoolWorker, record: TaskRecord, exit: WorkerExit): WorkerCrashedError {
    const code = (exit.error as { code?: string } | undefined)?.code;
    const what = code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'ran out of memory (resourceLimits)' : describeExit(exit);
    return new WorkerCrashedError(
      `the ${this.transport.kind} ${this.options.name}#${worker.index} running task '${record.task.name}' ${what}`,
      { exitCode: exit.exitCode, signal: exit.signal, cause: exit.error },
    );
  }

  /** The executor can no longer run tasks: fail everything waiting, stop the workers. */
  #break(error: BrokenExecutorError): void {
    if (this.#broken !== undefined) return;
    this.#broken = error;
    for (const record of this.#queue.drain()) if (record.queued) this.#settle(record, false, error);
    for (const worker of [...this.#workers]) {
      for (const record of [...worker.records.values()]) this.#settle(record, false, error);
      this.#retire(worker, true);
    }
    this.#notifyWaiters();
  }

  // ── waiting ──────────────────────────────────────────────────────────────────────────────

  #notifyWaiters(): void {
    if (this.#roomWaiters.length > 0 && (this.hasRoom() || this.#state !== 'running' || this.#broken !== undefined)) {
      const waiters = this.#roomWaiters;
      this.#roomWaiters = [];
      for (const wake of waiters) wake();
    }
    if (this.#queued === 0 && this.#drainWaiters.length > 0) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const wake of waiters) wake();
    }
    if (this.#idleWaiters.length > 0 && this.#isIdle()) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  #isIdle(): boolean {
    return this.#queued === 0 && this.#workers.every((w) => w.inflight === 0);
  }

  /** Resolves when nothing is queued. */
  drained(): Promise<void> {
    if (this.#queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Blocks this thread until `future` settles or `deadline` passes, doing the event loop's work
   * for this pool by hand: sending queued calls, and reading results as they arrive.
   */
  waitSync(future: Future<unknown>, deadline: number): void {
    const wake = this.#wake;
    if (wake === undefined) {
      throw new DeadlockError(`resultSync() cannot wait for a ${this.transport.kind}: its results only arrive through the event loop; await the future instead`);
    }
    for (;;) {
      const seen = wake.read();
      for (const worker of this.#workers) worker.conn.flush();
      for (const worker of [...this.#workers]) {
        worker.conn.receivePending();
        // Its 'exit' event cannot arrive while this thread blocks: ask the worker directly.
        const exitCode = worker.wake?.exitCode();
        if (exitCode !== undefined) this.#onExit(worker, { exitCode });
        else if (worker.ready && worker.spawned.stopped?.() === true) this.#onExit(worker, { error: new Error(STOPPED_WITHOUT_EXIT) });
      }
      if (future.done()) return;
      for (const worker of this.#workers) worker.conn.flush();
      if (this.#workers.length === 0) {
        throw new DeadlockError('resultSync() would block forever: the executor has no worker to run the task');
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) return;
      wake.sleep(seen, Math.min(remaining, STOPPED_CHECK_MS)); // wake up now and then to look
    }
  }

  // ── shutting down ────────────────────────────────────────────────────────────────────────

  /** Stops taking tasks; cancels the queue if asked; resolves when workers have exited. */
  shutdown(cancelFutures: boolean): Promise<void> {
    if (cancelFutures) this.#cancelPending();
    if (this.#shutdownDone === undefined) {
      if (this.#state === 'running') this.#state = 'shutdown';
      this.#notifyWaiters();
      this.#shutdownDone = this.idle().then(() => this.#stopAll());
    }
    return this.#shutdownDone;
  }

  #cancelPending(): void {
    for (const record of this.#queue.drain()) if (record.queued) this.#settle(record, false, new CancelledError('cancelled by shutdown'), true);
    for (const worker of this.#workers) {
      for (const record of [...worker.records.values()]) {
        if (worker.withdraw(record)) {
          record.worker = undefined;
          this.#settle(record, false, new CancelledError('cancelled by shutdown'), true);
        }
      }
    }
    this.#notifyWaiters();
  }

  async #stopAll(): Promise<void> {
    for (const worker of [...this.#workers]) this.#retire(worker, true);
    await Promise.all([...this.#exited]);
  }

  // ── looking ──────────────────────────────────────────────────────────────────────────────

  stats(): ExecutorStats {
    let busy = 0;
    let running = 0;
    for (const worker of this.#workers) {
      if (worker.inflight > 0) busy++;
      running += worker.inflight;
    }
    return {
      workers: this.#workers.length,
      busy,
      queued: this.#queued,
      running,
      completed: this.#completed,
      failed: this.#failed,
      cancelled: this.#cancelled,
      runTime: this.#runTimes.summary(),
      waitTime: this.#waitTimes.summary(),
    };
  }

  get isShutdown(): boolean {
    return this.#state !== 'running';
  }
}

function describeExit(exit: WorkerExit): string {
  if (exit.signal !== undefined) return `was killed by ${exit.signal}`;
  if (exit.error !== undefined) return `died: ${messageOf(exit.error)}`;
  return `exited with code ${exit.exitCode ?? 'unknown'}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
