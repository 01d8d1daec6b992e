/**
 * A pool: the call table (core/calls.ts) plus what only a pool has — a queue in front of N
 * workers, dispatch and stealing, and the workers' life cycle.
 *
 * - Calls go to the least-loaded worker, several ahead, so a worker always has its next call at
 *   hand and a burst of calls travels as one message. A worker that runs dry takes back (steals)
 *   unstarted calls from the busiest one, so a slow task never holds others hostage.
 * - An abortable call (a signal or a timeout) runs alone on its worker, because ending it may
 *   mean terminating that worker: a stuck call's worker is ended after `abortGraceMs`.
 * - A worker that dies fails only the calls it was running; those it had not started go back to
 *   the queue. One that dies before it ever started breaks the executor.
 *
 * The scheduler knows nothing of threads or processes; a Transport makes the workers.
 */
import { CallTable, type Call, type CallPolicy } from '../core/calls.js';
import { Waiters } from '../core/waiters.js';
import { crashError, describeExit, messageOf, type Endpoint } from '../core/endpoint.js';
import type { ResolvedOptions } from '../core/executor.js';
import type { Future } from '../core/future.js';
import { Samples, type ExecutorStats } from '../core/stats.js';
import { toTask, type Task } from '../core/task.js';
import type { TransferList } from '../wire/args.js';
import { decodeError, type EncodedError } from '../wire/error-codec.js';
import { BrokenExecutorError, CancelledError, ExecutorShutdownError, QueueFullError, type WorkerCrashedError } from '../wire/errors.js';
import { Op } from '../wire/protocol.js';
import { Wake } from '../wire/wake.js';
import type { PoolWorker } from './pool-worker.js';
import { PoolQueue } from './pool-queue.js';
import { WorkerSet } from './worker-set.js';
import type { Transport, WorkerExit } from './transport.js';

/**
 * Most calls in flight to one worker: deep enough that a worker still has calls queued while this
 * thread settles its last batch of results and sends the next (an idle worker must be woken, and
 * on a VM the wake-up costs the sender tens of microseconds), shallow enough to steal from.
 */
const MAX_IN_FLIGHT = 512;
/** Workers that may die holding a call it had not started before the call fails (see #onExit). */
const MAX_LOST_UNSTARTED = 3;

/** The URL of the module a call's task comes from; undefined for an inline task. */
function moduleOf(call: Call): string | undefined {
  const ref = call.task.ref;
  return ref.kind === 'module' ? ref.url : undefined;
}

/**
 * `open`: taking calls; `draining`: shut down, finishing its calls and the maps begun before;
 * `closed`: shut down with `cancelFutures`, finishing only what runs; `broken`: it can run
 * nothing more.
 */
type PoolState = 'open' | 'draining' | 'closed' | 'broken';

export class Scheduler implements CallPolicy {
  readonly #table: CallTable;
  readonly #queue = new PoolQueue();
  readonly #workers: WorkerSet;
  #state: PoolState = 'open';
  #broken: BrokenExecutorError | undefined = undefined;
  /** Maps that may still submit, by what tells them the executor is shutting down (see `openMap`). */
  readonly #maps = new Set<(cancelled: boolean) => void>();
  /** While > 0, settling calls does not dispatch (a dead worker's calls are being sorted). */
  #holdDispatch = 0;
  readonly #runTimes = new Samples();
  readonly #waitTimes = new Samples();
  /** Every worker bumps this after sending a frame, so `resultSync` can sleep until one does. */
  readonly #wake: Wake | undefined;
  readonly #initializer: Task | undefined;
  readonly #room = new Waiters();
  readonly #idle = new Waiters();
  readonly #drained = new Waiters();
  #shutdownDone: Promise<void> | undefined = undefined;

  constructor(
    readonly options: ResolvedOptions,
    readonly transport: Transport,
  ) {
    this.#wake = transport.sharedMemory ? new Wake() : undefined;
    this.#table = new CallTable(this, {
      abortGraceMs: options.abortGraceMs,
      callerStacks: options.callerStacks,
      wake: this.#wake,
      cannotBlock: `resultSync() cannot wait for a ${transport.kind}: its results only arrive through the event loop; await the future instead`,
      target: { executor: options.name },
      unobservedFailures: options.unobservedFailures,
    });
    this.#initializer = options.initializer === undefined ? undefined : toTask(options.initializer);
    // Without shared memory a sent call cannot be taken back, and with a bounded queue the queue
    // must show all waiting work: one call at a time per worker then.
    const window = transport.sharedMemory && options.maxQueue === Infinity ? MAX_IN_FLIGHT : 1;
    this.#workers = new WorkerSet(
      transport,
      { maxWorkers: options.maxWorkers, maxTasksPerWorker: options.maxTasksPerWorker, window },
      (index, worker) => ({
        name: `${options.name}_${index}`,
        wakeCaller: this.#wake,
        initializer: this.#initializer?.ref,
        initArgs: options.initArgs,
        result: (id, ok, value) => this.#onResult(worker(), id, ok, value),
        control: (op, value) => this.#onControl(worker(), op, value),
      }),
      (worker, exit) => this.#onExit(worker, exit),
    );
    for (let i = 0; i < options.minWorkers; i++) this.#spawn();
  }

  // ── submitting ───────────────────────────────────────────────────────────────────────────

  /** Throws why a new call cannot be taken, if it cannot; `fromMap` for a map begun before shutdown. */
  checkOpen(fromMap = false): void {
    if (this.#broken !== undefined) throw this.#broken;
    if (this.#state === 'open' || (fromMap && this.#state === 'draining')) return;
    throw new ExecutorShutdownError(`executor '${this.options.name}' is shut down`);
  }

  /** Whether one more call fits without going over `maxQueue`. */
  hasRoom(abortable = false): boolean {
    if (this.#queue.size < this.options.maxQueue) return true;
    return this.#queue.size === 0 && this.#pickWorker(abortable) !== undefined;
  }

  /** Queues a call whose arguments are ready to send; returns its future. */
  submit(task: Task, args: unknown[], flags: number, transfer: TransferList | undefined, fromMap = false): Future<unknown> {
    this.checkOpen(fromMap);
    const { signal, timeoutMs } = task.options;
    if (!this.hasRoom(signal !== undefined || timeoutMs !== undefined)) {
      throw new QueueFullError(`executor '${this.options.name}' has ${this.#queue.size} tasks queued (maxQueue ${this.options.maxQueue})`);
    }
    return this.#table.submit(task, args, flags, transfer);
  }

  /** Resolves when `hasRoom()` may have become true (or the executor closed). */
  waitForRoom(): Promise<void> {
    return this.#room.wait();
  }

  /**
   * A map begins: until it `close()`s, it may go on submitting (`fromMap`) after a shutdown, and
   * the shutdown waits for it; `onShutdown` tells it to submit the rest of its input at once.
   */
  openMap(onShutdown: (cancelled: boolean) => void): { close(): void } {
    this.#maps.add(onShutdown);
    return {
      close: () => {
        if (this.#maps.delete(onShutdown)) this.#notifyWaiters();
      },
    };
  }

  // ── the call table's policy ──────────────────────────────────────────────────────────────

  dispatch(call: Call): void {
    this.#queue.push(call);
    this.#pump(call.at);
  }

  released(_call: Call, from: Endpoint | undefined): void {
    if (from === undefined) this.#queue.released();
  }

  next(_call: Call, from: Endpoint | undefined, now?: number): void {
    if (from !== undefined) {
      const worker = from as PoolWorker;
      if (worker.tasksRun >= this.options.maxTasksPerWorker && worker.serving) worker.retire(false);
      if (worker.inflight === 0) this.#onWorkerIdle(worker);
    }
    if (this.#holdDispatch === 0) this.#pump(now);
  }

  stuck(_call: Call, endpoint: Endpoint): void {
    (endpoint as PoolWorker).retire(true);
  }

  endpoints(): readonly Endpoint[] {
    return this.#workers.list;
  }

  gone(endpoint: Endpoint, exit: WorkerExit): void {
    this.#onExit(endpoint as PoolWorker, exit);
  }

  // ── dispatching ──────────────────────────────────────────────────────────────────────────

  /** Sends queued calls to workers while any can take one. `now` saves a clock read. */
  #pump(now?: number): void {
    for (let call = this.#queue.peek(); call !== undefined; call = this.#queue.peek()) {
      const worker = this.#pickWorker(call.abortable);
      if (worker === undefined) break;
      this.#queue.take();
      this.#send(call, worker, (now ??= performance.now()));
    }
    this.#notifyWaiters();
  }

  /** A worker for a call: an idle one, a new one, or the least loaded with room. */
  #pickWorker(abortable: boolean): PoolWorker | undefined {
    const pick = this.#workers.pick(abortable);
    if (pick !== 'spawn') return pick;
    return this.#broken === undefined ? this.#spawn() : undefined;
  }

  #send(call: Call, worker: PoolWorker, now: number): void {
    worker.stopIdleTimer();
    this.#waitTimes.add(now - call.at);
    call.at = now;
    if (call.abortable) worker.exclusive = call;
    this.#table.send(call, worker);
  }

  /** A worker ran dry: take half of the busiest worker's unstarted calls. */
  #steal(thief: PoolWorker): void {
    if (!this.transport.sharedMemory) return;
    const victim = this.#workers.victim(thief);
    if (victim === undefined) return;
    const stolen: Call[] = [];
    const candidates = [...victim.calls.values()];
    for (let i = candidates.length - 1; i >= 0 && stolen.length < candidates.length >> 1; i--) {
      const call = candidates[i]!;
      if (call.transfer !== undefined || !this.#table.unsend(call)) break;
      stolen.push(call);
    }
    const now = performance.now();
    for (let i = stolen.length - 1; i >= 0; i--) this.#send(stolen[i]!, thief, now);
  }

  #onResult(worker: PoolWorker, id: number, ok: boolean, value: unknown): void {
    const call = worker.calls.get(id);
    if (call === undefined) return;
    const now = performance.now();
    this.#runTimes.add(now - call.at);
    worker.tasksRun++;
    this.#table.reply(call, ok, value, now);
  }

  #onWorkerIdle(worker: PoolWorker): void {
    if (worker.state === 'retiring') worker.retire(true);
    if (!worker.serving) return;
    // Not in a sweep: a worker whose calls were just cancelled would take the unstarted calls of
    // one the sweep has yet to reach, and they would run after the shutdown that cancelled them.
    if (this.#queue.size === 0 && this.#holdDispatch === 0) this.#steal(worker);
    const spare = () => this.#workers.live() > this.options.minWorkers;
    if (worker.inflight === 0 && spare()) worker.endWhenIdleFor(this.options.idleTimeoutMs, spare);
  }

  // ── workers coming and going ─────────────────────────────────────────────────────────────

  #spawn(): PoolWorker | undefined {
    try {
      return this.#workers.spawn();
    } catch (cause) {
      // Refused at once (e.g. invalid execArgv): no worker of this executor could ever start.
      this.#break(new BrokenExecutorError(`a ${this.transport.kind} of executor '${this.options.name}' could not start: ${messageOf(cause)}`, { cause }));
      return undefined;
    }
  }

  #onControl(worker: PoolWorker, op: number, value: unknown): void {
    if (op === Op.Ready) {
      if (worker.state === 'starting') worker.state = 'ready';
    } else if (op === Op.Dying) {
      worker.dyingOf = decodeError(value as EncodedError);
    } else if (op === Op.Failed) {
      const cause = decodeError(value as EncodedError);
      this.#break(new BrokenExecutorError(`the initializer of executor '${this.options.name}' failed: ${messageOf(cause)}`, { cause }));
    }
  }

  #onExit(worker: PoolWorker, exit: WorkerExit): void {
    if (worker.state === 'dead') return; // already handled from resultSync
    if (exit.error === undefined && worker.dyingOf !== undefined) exit = { ...exit, error: worker.dyingOf };
    // Results the worker sent before it died may still wait in the channel: take them first, so
    // a call that finished is not counted as crashed.
    worker.conn.receivePending();
    const was = worker.state;
    worker.state = 'dead';
    worker.conn.close();
    worker.stopIdleTimer();
    this.#workers.remove(worker);
    if (was === 'starting' && this.#broken === undefined) {
      const cause = exit.error ?? new Error(describeExit(exit));
      this.#break(new BrokenExecutorError(`a ${this.transport.kind} of executor '${this.options.name}' could not start: ${messageOf(cause)}`, { cause }));
    }
    const crashed = (was !== 'retiring' && was !== 'ending') || worker.inflight > 0;
    // Dead of an error while running nothing (a task's stray timer threw after it returned): no
    // future fails with it, so it is said here, never lost.
    if (exit.error !== undefined && worker.inflight === 0 && was !== 'starting') {
      const subject = `the ${this.transport.kind} ${this.options.name}_${worker.index} of executor '${this.options.name}', running no task,`;
      process.emitWarning(`${crashError(subject, exit).message}; another takes its place if needed`, { code: 'THREADLOOP_WORKER_DIED' });
    }
    this.#holdDispatch++;
    let blamed = false;
    // The module found to end the workers it is imported by, and the error its calls fail with.
    let doomed: { url: string; error: WorkerCrashedError } | undefined;
    const requeued = this.#table.lost(worker, (call, started) => {
      if (this.#broken !== undefined) return this.#broken;
      // A call starts once its module has loaded: a module that ends its worker at import kills
      // every worker it is sent to before it starts. Retried without end, its future would never
      // settle and the pool would respawn workers for ever. Calls start in the order they were
      // sent (the started ones come first here), so only the first one not started can be the
      // culprit, and only if nothing was running; those behind it go back as ever — but for the
      // calls of a module found to be the culprit, which could not start either.
      if (started) blamed = true;
      else {
        if (doomed !== undefined && moduleOf(call) === doomed.url) return doomed.error;
        const culprit = !blamed;
        blamed = true;
        if (!culprit || ++call.lostUnstarted < MAX_LOST_UNSTARTED) return undefined;
      }
      const subject = started
        ? `the ${this.transport.kind} ${this.options.name}_${worker.index} running task '${call.task.name}'`
        : `task '${call.task.name}' could not start: the ${MAX_LOST_UNSTARTED} workers it was sent to ended before it started (does its module end them when imported?); the last one`;
      const error = crashError(subject, exit);
      const url = started ? undefined : moduleOf(call);
      if (url !== undefined) doomed = { url, error };
      return error;
    });
    this.#holdDispatch--;
    this.#queue.requeue(requeued);
    // Shut down with cancelFutures (or force): what had not started is cancelled, never run.
    if (this.#state === 'closed') this.#cancelPending();
    // Its calls still waiting would each take three more workers to fail: they fail with it.
    if (doomed !== undefined) {
      const { url, error } = doomed;
      this.#holdDispatch++;
      for (const call of this.#queue.extract((queued) => moduleOf(queued) === url)) this.#table.drop(call, error, false);
      this.#holdDispatch--;
    }
    if (crashed && this.#state === 'open') {
      while (this.#workers.live() < this.options.minWorkers && this.#broken === undefined) this.#spawn();
    }
    this.#pump();
  }

  /** The executor can no longer run calls: fail everything waiting, stop the workers. */
  #break(error: BrokenExecutorError): void {
    if (this.#broken !== undefined) return;
    this.#broken = error;
    this.#state = 'broken';
    this.#sweep((call) => this.#table.drop(call, error, false), (call) => this.#table.abandon(call, error), true);
  }

  /**
   * Deals with every call at once — `queued` with each queued one, `sent` with each sent to a
   * worker — dispatching nothing meanwhile; `end` ends every worker after.
   */
  #sweep(queued: ((call: Call) => void) | undefined, sent: (call: Call, worker: PoolWorker) => void, end = false): void {
    this.#holdDispatch++;
    if (queued !== undefined) for (const call of this.#queue.drain()) queued(call);
    for (const worker of [...this.#workers.list]) {
      for (const call of [...worker.calls.values()]) sent(call, worker);
      if (end) {
        worker.conn.flush(); // what was said to it goes out before it is ended
        worker.retire(true);
      }
    }
    this.#holdDispatch--;
    this.#notifyWaiters();
  }

  // ── waiting ──────────────────────────────────────────────────────────────────────────────

  #notifyWaiters(): void {
    if (this.#room.waiting && (this.hasRoom() || this.#state !== 'open')) this.#room.wakeAll();
    if (this.#queue.size === 0) this.#drained.wakeAll();
    if (this.#idle.waiting && this.#isIdle()) this.#idle.wakeAll();
  }

  #isIdle(): boolean {
    return this.#queue.size === 0 && this.#workers.list.every((w) => w.inflight === 0);
  }

  /** Resolves when nothing is queued. */
  drained(): Promise<void> {
    return this.#queue.size === 0 ? Promise.resolve() : this.#drained.wait();
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    return this.#isIdle() ? Promise.resolve() : this.#idle.wait();
  }

  // ── shutting down ────────────────────────────────────────────────────────────────────────

  /**
   * Stops taking calls; cancels what has not started if asked; resolves when the calls and the
   * maps begun before it are done and the workers have exited.
   */
  shutdown(cancelFutures: boolean, force = false): Promise<void> {
    if (cancelFutures || force) this.#cancelPending();
    if (force) this.#endRunning();
    if (this.#shutdownDone === undefined) {
      if (this.#state === 'open') this.#state = 'draining';
      for (const onShutdown of [...this.#maps]) onShutdown(false);
      this.#notifyWaiters();
      this.#shutdownDone = this.#finished().then(() => this.#workers.endAll());
    }
    return force ? this.#workers.endAll() : this.#shutdownDone;
  }

  /** A forced shutdown: running calls are told to stop and cancelled, their workers ended now. */
  #endRunning(): void {
    // Results the workers sent already, still in their channels: a call that finished keeps its result.
    for (const worker of this.#workers.list) worker.conn.receivePending();
    const cancelled = () => new CancelledError('cancelled by a forced shutdown');
    this.#sweep(undefined, (call, worker) => {
      worker.sender.abort(call.id, cancelled());
      this.#table.abandon(call, cancelled(), true);
    }, true);
  }

  async #finished(): Promise<void> {
    for (;;) {
      await this.idle();
      if (this.#maps.size === 0 || this.#state !== 'draining') return;
      await this.#idle.wait(); // a map closes, or submits and then finishes
    }
  }

  #cancelPending(): void {
    if (this.#state !== 'broken') this.#state = 'closed';
    for (const onShutdown of [...this.#maps]) onShutdown(true); // maps begun before are cancelled too
    const cancelled = () => new CancelledError('cancelled by shutdown');
    this.#sweep((call) => this.#table.drop(call, cancelled(), true), (call) => this.#table.fail(call, cancelled(), true));
  }

  // ── looking ──────────────────────────────────────────────────────────────────────────────

  stats(): ExecutorStats {
    return {
      ...this.#workers.counts(),
      queued: this.#queue.size,
      completed: this.#table.completed,
      failed: this.#table.failed,
      cancelled: this.#table.cancelled,
      runTime: this.#runTimes.summary(),
      waitTime: this.#waitTimes.summary(),
    };
  }
}
