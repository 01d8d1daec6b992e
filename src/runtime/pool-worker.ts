/**
 * One worker of a pool: an endpoint of the pool's call table, plus what only a pool's worker has
 * — its life cycle as one state, whether an abortable call holds it alone, how many tasks it ran.
 *
 *     starting ──▶ ready ──▶ retiring ──▶ ending ──▶ dead
 *        │           │                       ▲          ▲
 *        │           └───────────────────────┘          │   (ended at once: stuck, idle, shut down)
 *        └──────────────────────────────────────────────┘   (it crashed, or never started)
 */
import { Endpoint, type EndpointExit } from '../core/endpoint.js';
import type { Call } from '../core/calls.js';
import { after, type Timer } from '../core/timers.js';
import type { TaskRef } from '../wire/protocol.js';
import { Slots } from '../wire/slots.js';
import { Wake } from '../wire/wake.js';
import { Connection, type ConnectionEvents } from './connection.js';
import { lingerSettings, releaseLingerPlace } from './linger-places.js';
import { exitProbe, type SpawnedWorker, type Transport } from './transport.js';

/**
 * - `starting`: spawned, its initializer (if any) not yet done; calls may be sent already;
 * - `ready`: serving;
 * - `retiring`: due for recycling: gets no new work, and ends once its calls are done;
 * - `ending`: told to end (terminated); its exit, when it comes, is no crash;
 * - `dead`: gone.
 */
export type WorkerState = 'starting' | 'ready' | 'retiring' | 'ending' | 'dead';

export class PoolWorker extends Endpoint {
  state: WorkerState = 'starting';
  readonly conn: Connection;
  /** An abortable call runs alone: while set, nothing else is sent here. */
  exclusive: Call | undefined = undefined;
  tasksRun = 0;
  /** The uncaught error a child process said it is dying of. */
  dyingOf: unknown = undefined;
  #idleTimer: Timer | undefined = undefined;

  constructor(
    readonly index: number,
    readonly spawned: SpawnedWorker,
    slots: Slots | undefined,
    /** Bumped when this side sends the worker a frame (for a worker blocked in resultSync). */
    readonly wake: Wake | undefined,
    /** Start/withdraw cells of the calls the worker sends here (mainLoop()), if shared. */
    backSlots: Slots | undefined,
    events: ConnectionEvents,
    probe: (() => EndpointExit | undefined) | undefined,
  ) {
    const conn = new Connection(spawned.channel, events, backSlots, wake);
    super(conn, slots, spawned.channel, probe);
    this.conn = conn;
    spawned.channel.unref();
  }

  /** Whether the pool may send it work. */
  get serving(): boolean {
    return this.state === 'starting' || this.state === 'ready';
  }

  /** Stops it on purpose; `now` terminates it, otherwise it finishes its calls first. */
  retire(now: boolean): void {
    if (this.state === 'ending' || this.state === 'dead') return;
    this.state = 'retiring';
    if (now || this.inflight === 0) {
      this.state = 'ending';
      this.spawned.channel.ref(); // hold on until its exit is heard
      this.spawned.terminate();
    }
  }

  /** Ends it after `ms` with nothing to do, if `spare()` still says the pool can do without it. */
  endWhenIdleFor(ms: number, spare: () => boolean): void {
    if (this.#idleTimer !== undefined) return;
    // Unref'd: an idle worker never keeps the process alive.
    this.#idleTimer = after(ms, () => {
      this.#idleTimer = undefined;
      if (this.inflight === 0 && spare()) this.retire(true);
    }, true);
  }

  /** It has work again, or is gone: no idle end. */
  stopIdleTimer(): void {
    this.#idleTimer?.clear();
    this.#idleTimer = undefined;
  }

  override remove(call: Call): void {
    if (this.exclusive === call) this.exclusive = undefined;
    super.remove(call);
  }
}

/** What a pool gives each worker it spawns, and how it hears from it. */
export interface WorkerSpec extends ConnectionEvents {
  /** The thread's name: `<executor>_<index>`. */
  name: string;
  /** Bumped by every worker of the pool when it sends (for the pool's blocking waits). */
  wakeCaller: Wake | undefined;
  initializer: TaskRef | undefined;
  initArgs: unknown[];
}

/**
 * Starts worker `index` of a pool: its shared cells (with shared memory), its bootstrap, its
 * connection. Throws if the transport refuses at once (e.g. invalid execArgv).
 */
export function spawnWorker(transport: Transport, index: number, spec: WorkerSpec): PoolWorker {
  const shared = transport.sharedMemory;
  const slots = shared ? new Slots() : undefined;
  const backSlots = shared ? new Slots() : undefined;
  const wakeWorker = shared ? new Wake() : undefined;
  const linger = wakeWorker === undefined || transport.idleSpinMs <= 0 ? undefined : lingerSettings(transport.idleSpinMs);
  const spawned = transport.spawn({
    slots: slots?.buffer,
    backSlots: backSlots?.buffer,
    wakeCaller: spec.wakeCaller?.buffer,
    wakeWorker: wakeWorker?.buffer,
    linger,
    initializer: spec.initializer,
    initArgs: spec.initArgs,
    name: spec.name,
  });
  if (linger !== undefined) spawned.onExit(() => releaseLingerPlace(linger.token)); // its own finally did not run
  return new PoolWorker(index, spawned, slots, wakeWorker, backSlots, spec, exitProbe(wakeWorker, spawned));
}
