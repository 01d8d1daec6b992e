/**
 * The workers of a pool: spawning them, choosing one for a call, finding one to steal from, and
 * waiting for them all to exit. The pool (scheduler.ts) decides when; this says which.
 */
import type { ExecutorStats } from '../core/stats.js';
import { spawnWorker, type PoolWorker, type WorkerSpec } from './pool-worker.js';
import type { Transport, WorkerExit } from './transport.js';

/** How workers are chosen, from the executor's options. */
export interface WorkerLimits {
  maxWorkers: number;
  maxTasksPerWorker: number;
  /** Most calls sent ahead to one busy worker. */
  window: number;
}

export class WorkerSet {
  /** Every worker not yet dead, in the order they were spawned. */
  readonly list: PoolWorker[] = [];
  #spawned = 0;
  readonly #exited = new Set<Promise<void>>();

  constructor(
    readonly transport: Transport,
    readonly limits: WorkerLimits,
    /** What worker `index` is told, and how the pool hears from it. */
    readonly spec: (index: number, self: () => PoolWorker) => WorkerSpec,
    /** Called once per worker, when it is gone. */
    readonly onExit: (worker: PoolWorker, exit: WorkerExit) => void,
  ) {}

  /** Starts a worker; throws if the transport refuses at once. */
  spawn(): PoolWorker {
    const index = this.#spawned++;
    const worker: PoolWorker = spawnWorker(this.transport, index, this.spec(index, () => worker));
    this.list.push(worker);
    const exited = new Promise<void>((resolve) => {
      worker.spawned.onExit((info) => {
        this.#exited.delete(exited);
        this.onExit(worker, info);
        resolve();
      });
    });
    this.#exited.add(exited);
    return worker;
  }

  /** Workers that are or will be serving. */
  live(): number {
    let live = 0;
    for (const worker of this.list) if (worker.serving) live++;
    return live;
  }

  /**
   * For a call: an idle worker; else `'spawn'` if one more may start; else the least loaded with
   * room (never for an abortable call, which runs alone).
   */
  pick(abortable: boolean): PoolWorker | 'spawn' | undefined {
    let best: PoolWorker | undefined;
    let live = 0;
    for (const worker of this.list) {
      if (!worker.serving) continue;
      live++;
      if (worker.exclusive !== undefined) continue;
      if (worker.tasksRun + worker.inflight >= this.limits.maxTasksPerWorker) continue; // due for recycling
      if (worker.inflight === 0) return worker;
      if (best === undefined || worker.inflight < best.inflight) best = worker;
    }
    if (live < this.limits.maxWorkers) return 'spawn';
    if (abortable || best === undefined) return undefined;
    return best.inflight < this.limits.window ? best : undefined;
  }

  /** The busiest worker with calls to spare for `thief`, if any. */
  victim(thief: PoolWorker): PoolWorker | undefined {
    let victim: PoolWorker | undefined;
    for (const worker of this.list) {
      if (worker !== thief && worker.state !== 'dead' && worker.inflight > 1 && (victim === undefined || worker.inflight > victim.inflight)) {
        victim = worker;
      }
    }
    return victim;
  }

  /** Forgets a dead worker. */
  remove(worker: PoolWorker): void {
    const i = this.list.indexOf(worker);
    if (i >= 0) this.list.splice(i, 1);
  }

  /** Ends every worker now; resolves when all have exited. */
  async endAll(): Promise<void> {
    for (const worker of [...this.list]) worker.retire(true);
    await Promise.all([...this.#exited]);
  }

  /** How many workers there are, how many are busy, and how many calls they have. */
  counts(): Pick<ExecutorStats, 'workers' | 'busy' | 'running'> {
    let busy = 0;
    let running = 0;
    for (const worker of this.list) {
      if (worker.inflight > 0) busy++;
      running += worker.inflight;
    }
    return { workers: this.list.length, busy, running };
  }
}
