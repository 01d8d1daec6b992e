/**
 * One worker of a pool, as the scheduler keeps track of it: its connection, the calls it has been
 * sent and not answered, and the arbitration slots those calls hold.
 */
import { Connection, type ConnectionEvents } from './connection.js';
import { SLOT_COUNT, Slots } from '../wire/slots.js';
import type { Wake } from '../wire/wake.js';
import type { SpawnedWorker } from './transport.js';
import type { TaskRecord } from './task-record.js';

export class PoolWorker {
  readonly conn: Connection;
  /** Calls sent and not settled, in the order they were sent. */
  readonly records = new Map<number, TaskRecord>();
  /** An abortable task runs alone: while set, nothing else is sent here. */
  exclusive: TaskRecord | undefined = undefined;
  /** Initialized and serving (the initializer, if any, has run). */
  ready = false;
  /** On its way out (idle, recycled, shut down): gets no new work, and its exit is no crash. */
  retiring = false;
  /** Gone. */
  dead = false;
  tasksRun = 0;
  /** The uncaught error a child process said it is dying of. */
  dyingOf: unknown = undefined;
  idleTimer: NodeJS.Timeout | undefined = undefined;
  readonly #freeSlots: number[] | undefined;

  constructor(
    readonly index: number,
    readonly spawned: SpawnedWorker,
    readonly slots: Slots | undefined,
    /** Bumped when this side sends the worker a frame (for a worker blocked in resultSync). */
    readonly wake: Wake | undefined,
    events: ConnectionEvents,
  ) {
    this.conn = new Connection(spawned.channel, events, undefined, wake);
    this.#freeSlots = slots === undefined ? undefined : Array.from({ length: SLOT_COUNT }, (_, i) => SLOT_COUNT - 1 - i);
    spawned.channel.unref();
  }

  /** Calls sent and not settled. */
  get inflight(): number {
    return this.records.size;
  }

  /** Records a call as sent here; returns its slot (or NO_SLOT without shared memory). */
  add(record: TaskRecord): number {
    if (this.records.size === 0) this.spawned.channel.ref();
    this.records.set(record.id, record);
    const slot = this.#freeSlots?.pop();
    if (slot === undefined) return -1;
    this.slots!.offer(slot, record.id);
    return slot;
  }

  /** Forgets a call (settled, withdrawn or lost with the worker). */
  remove(record: TaskRecord): void {
    if (!this.records.delete(record.id)) return;
    if (record.slot >= 0) this.#freeSlots!.push(record.slot);
    if (this.exclusive === record) this.exclusive = undefined;
    if (this.records.size === 0) this.spawned.channel.unref();
  }

  /** Tries to take back a call the worker has not started. */
  withdraw(record: TaskRecord): boolean {
    if (record.slot < 0 || !this.slots!.withdraw(record.slot, record.id)) return false;
    this.remove(record);
    return true;
  }

  /** Whether the worker has started `record`. Without slots, a sent call counts as started. */
  hasStarted(record: TaskRecord): boolean {
    return record.slot < 0 || this.slots!.started(record.slot, record.id);
  }
}
