/**
 * Start/withdraw arbitration for calls a pool has sent but a worker has not started yet.
 *
 * The pool sends tasks to a worker ahead of time, in batches, so the worker never waits for the
 * next one. Until the worker starts a task, the pool may still want it back: to cancel it, to
 * give it to an idle worker (work stealing), or to re-queue it when the worker dies. Both sides
 * race for one Int32 cell per call, and compare-and-swap decides who wins:
 *
 *     cell = id       sent, not started           pool: CAS id→0  (withdrawn)
 *                                                  worker: CAS id→-id (started)
 *     cell = -id      started: the worker owns it
 *     cell = 0        withdrawn, or free
 *
 * Ids are unique positive int32s, so a stale call whose cell was reused fails its CAS.
 */

/** Cells per worker: more than the deepest batch a pool keeps in flight to one worker. */
export const SLOT_COUNT = 1024;

/** The shared cells, seen from either side. */
export class Slots {
  readonly cells: Int32Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(SLOT_COUNT * 4)) {
    this.cells = new Int32Array(buffer);
  }

  get buffer(): SharedArrayBuffer {
    return this.cells.buffer as SharedArrayBuffer;
  }

  /** Pool side: mark `slot` as holding call `id`, not started. */
  offer(slot: number, id: number): void {
    Atomics.store(this.cells, slot, id);
  }

  /** Worker side: claim call `id` in `slot`; false means the pool took it back — skip it. */
  start(slot: number, id: number): boolean {
    return Atomics.compareExchange(this.cells, slot, id, -id) === id;
  }

  /** Pool side: take call `id` back; false means the worker already started it. */
  withdraw(slot: number, id: number): boolean {
    return Atomics.compareExchange(this.cells, slot, id, 0) === id;
  }

  /** Whether the worker has started call `id`. */
  started(slot: number, id: number): boolean {
    return Atomics.load(this.cells, slot) === -id;
  }
}
