/**
 * ThreadQueue: a bounded multi-producer multi-consumer queue in shared memory — the threadloop
 * `queue.Queue` (and, with `order`, `LifoQueue` and `PriorityQueue`), usable from every thread and
 * from async code.
 *
 * This module is the queue's face: options, encoding (queue-codec.ts, outside any lock), waiting
 * (wait.ts: getters and putters sleep on their own wake words, behind fairness gates) and task
 * accounting for `join()`. The items live in a storage behind `QueueStore` (queue-layout.ts):
 * the FIFO ring (queue-ring.ts) or the ordered store (ordered-store.ts), each with its own locks
 * and its own answer to a thread killed while holding one.
 */
import { QueueClosedError } from '../wire/errors.js';
import {
  noteShareableCreated,
  registerShareable,
  Revival,
  revive,
  type Shareable,
  type SharedDescriptor,
  toShared,
} from '../wire/shareable.js';
import { encodeItem, restoreEncoded, saveEncoded } from './queue-codec.js';
import {
  BYTE_CAPACITY,
  CAPACITY,
  CLOSED,
  CLOSED_MARK,
  GET_GATE,
  GET_WAITERS,
  GET_WAKE,
  HEADER_BYTES,
  MAX_ITEM_BYTES,
  ORDER,
  ORDERS,
  PUT_GATE,
  PUT_WAITERS,
  PUT_WAKE,
  type Closed,
  type QueueOrder,
  type QueueStore,
} from './queue-layout.js';
import { OrderedStore } from './ordered-store.js';
import { QueueJoin } from './queue-join.js';
import { itemsUntilClosed } from './queue-iteration.js';
import { isQueueBuffer, newQueueBuffer, type PutOptions, type ThreadQueueOptions, type TryGetResult } from './queue-options.js';

export type { PutOptions, ThreadQueueOptions, TryGetResult } from './queue-options.js';
import { QueueRing } from './queue-ring.js';
import {
  checkWaitOptions,
  Gate,
  NOT_YET,
  waitUntil,
  waitUntilSync,
  wake,
  type NotYet,
  type SyncWaitOptions,
  type WaitCell,
  type WaitOptions,
} from './wait.js';

/** The priority of the put in progress (set with `enc`, kept with it by a put that waits). */
let pendingPriority = 0;

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * A bounded queue shared by threads: FIFO by default, or LIFO, or by priority (`order`). Any
 * structured-cloneable item goes in; every item comes out exactly once, in order, to one getter.
 * Pass it to tasks as an argument: it arrives live. Async `put`/`get` never block the event loop; `putSync`/`getSync` block the calling thread
 * (meant for workers; on the main thread they work but freeze its event loop while they wait).
 * Items holding SharedArrayBuffers (and so threadloop primitives) cannot go through a queue —
 * pass those as task arguments.
 *
 * `close()` ends the queue: puts fail with `QueueClosedError` at once (also blocked ones), gets
 * drain what is left and then fail with `QueueClosedError`; iterators end. As with `queue.Queue`,
 * consumers may mark each item done with `taskDone()`, and `join()` waits until all are.
 *
 * @example
 * ```ts
 * const urgent = new ThreadQueue<Job>({ order: 'priority' });
 * await urgent.put(job, { priority: job.level });
 * const q = new ThreadQueue<number>({ capacity: 100 });
 * const producer = ex.submit((q) => { for (let i = 0; i < 1000; i++) q.putSync(i); q.close(); }, q);
 * for await (const n of q) sum += n;
 * await producer;
 * ```
 */
export class ThreadQueue<T = unknown> implements Shareable, AsyncIterable<T> {
  readonly #sab: SharedArrayBuffer;
  readonly #i32: Int32Array;
  readonly #capacity: number;
  readonly #maxItemBytes: number;
  readonly #getGate: Gate;
  readonly #putGate: Gate;
  readonly #getCell: WaitCell;
  readonly #putCell: WaitCell;
  readonly #join: QueueJoin;
  /** Where the items are: the FIFO ring, or the ordered store of a LIFO or priority queue. */
  readonly #store: QueueStore;

  constructor(options?: ThreadQueueOptions);
  constructor(options: ThreadQueueOptions | Revival = {}) {
    const fresh = !(options instanceof Revival);
    const sab = options instanceof Revival ? options.state : newQueueBuffer(options);
    this.#sab = sab;
    const i32 = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.#i32 = i32;
    this.#capacity = i32[CAPACITY] as number;
    this.#maxItemBytes = i32[MAX_ITEM_BYTES] as number;
    this.#getGate = new Gate(i32, GET_GATE);
    this.#putGate = new Gate(i32, PUT_GATE);
    this.#getCell = { i32, wake: GET_WAKE, waiters: GET_WAITERS, gate: this.#getGate };
    this.#putCell = { i32, wake: PUT_WAKE, waiters: PUT_WAITERS, gate: this.#putGate };
    this.#join = new QueueJoin(i32);
    const order = i32[ORDER] as number;
    const byteCapacity = i32[BYTE_CAPACITY] as number;
    this.#store =
      order === 0
        ? new QueueRing(sab, i32, this.#capacity, byteCapacity, {
            published: () => wake(this.#getCell),
            freed: () => wake(this.#putCell),
          })
        : new OrderedStore(sab, HEADER_BYTES, this.#capacity, byteCapacity, ORDERS[order] as 'lifo' | 'priority', i32, fresh);
    noteShareableCreated();
  }

  /** Rebuilds a ThreadQueue from `[toShared]().state` (the wire does this on arrival). */
  static fromShared<T = unknown>(state: unknown): ThreadQueue<T> {
    if (!isQueueBuffer(state)) {
      throw new TypeError('ThreadQueue.fromShared: expected the SharedArrayBuffer of a ThreadQueue');
    }
    return revive(ThreadQueue<T>, state);
  }

  [toShared](): SharedDescriptor {
    return { kind: 'ThreadQueue', state: this.#sab };
  }

  /** Items in the queue right now (a snapshot). */
  get size(): number {
    return this.#store.size;
  }

  /** Which item a get takes: `'fifo'`, `'lifo'` or `'priority'`. */
  get order(): QueueOrder {
    return ORDERS[this.#i32[ORDER] as number] as QueueOrder;
  }

  /** Most items the queue holds. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Largest encoded item accepted, in bytes. */
  get maxItemBytes(): number {
    return this.#maxItemBytes;
  }

  /** True once `close()` was called (items may still be left to get). */
  get closed(): boolean {
    return Atomics.load(this.#i32, CLOSED) === 1;
  }

  /**
   * Puts the item in `enc` if there is room. Throws QueueClosedError when closed. `allowed` is
   * false while another putter holds the fairness gate.
   */
  #insert(allowed: boolean): boolean {
    if (!allowed) {
      if (Atomics.load(this.#i32, CLOSED) === 1) throw new QueueClosedError('the ThreadQueue is closed');
      return false;
    }
    if (!this.#store.insert(pendingPriority)) return false;
    wake(this.#getCell);
    return true;
  }

  /** Takes the next item, or NOT_YET when empty, or CLOSED_MARK when closed and drained. */
  #remove(allowed: boolean): T | NotYet | Closed {
    if (!allowed) return this.#store.drained() ? CLOSED_MARK : NOT_YET;
    const r = this.#store.remove();
    if (r !== NOT_YET && r !== CLOSED_MARK) wake(this.#putCell);
    return r as T | NotYet | Closed;
  }

  // ---- public API ----

  /**
   * Puts an item if there is room right now. Returns false when full; throws
   * `QueueClosedError` when closed.
   *
   * @example
   * ```ts
   * if (!q.tryPut(job)) metrics.dropped++;
   * ```
   */
  tryPut(item: T, opts?: PutOptions): boolean {
    this.#encode(item, opts, 'ThreadQueue.tryPut');
    return this.#insert(!this.#putGate.blocks(0));
  }

  /** Encodes `item` into `enc`, and its priority into `pendingPriority`. */
  #encode(item: T, opts: PutOptions | undefined, where: string): void {
    const priority = opts?.priority;
    if (priority !== undefined) {
      if (typeof priority !== 'number' || Number.isNaN(priority)) {
        throw new TypeError(`${where}: priority must be a number (got ${String(priority)})`);
      }
      if ((this.#i32[ORDER] as number) !== 2) {
        throw new TypeError(`${where}: priority is for a queue made with order: 'priority' (this one is '${this.order}')`);
      }
    }
    encodeItem(item, this.#maxItemBytes, where);
    pendingPriority = priority ?? 0;
  }

  /**
   * Puts an item, waiting without blocking the event loop while the queue is full. Rejects with
   * `QueueClosedError` when the queue is (or gets) closed, `TimeoutError`, or `AbortError`.
   *
   * @example
   * ```ts
   * await q.put({ id: 1, body: 'hello' }, { timeoutMs: 1000 });
   * ```
   */
  put(item: T, opts?: WaitOptions & PutOptions): Promise<void> {
    try {
      checkWaitOptions(opts, 'ThreadQueue.put');
      this.#encode(item, opts, 'ThreadQueue.put');
      if (this.#insert(!this.#putGate.blocks(0))) return RESOLVED;
    } catch (err) {
      return Promise.reject(err);
    }
    return waitUntil(this.#putCell, this.#retryInsert(), opts, 'ThreadQueue.put').then(() => undefined);
  }

  /** The attempt of a put that has to wait: it keeps its encoded item, which later puts overwrite. */
  #retryInsert(): (allowed: boolean) => true | NotYet {
    const saved = saveEncoded();
    const priority = pendingPriority;
    return (allowed) => {
      restoreEncoded(saved);
      pendingPriority = priority;
      return this.#insert(allowed) ? true : NOT_YET;
    };
  }

  /**
   * Puts an item, blocking the calling thread while the queue is full. Meant for worker threads;
   * on the main thread it works but freezes the event loop while it waits.
   *
   * @example
   * ```ts
   * for (const row of rows) q.putSync(row);
   * ```
   */
  putSync(item: T, opts?: SyncWaitOptions & PutOptions): void {
    checkWaitOptions(opts, 'ThreadQueue.putSync');
    this.#encode(item, opts, 'ThreadQueue.putSync');
    if (this.#insert(!this.#putGate.blocks(0))) return;
    waitUntilSync(this.#putCell, this.#retryInsert(), opts, 'ThreadQueue.putSync');
  }

  /**
   * Takes the next item if there is one, without waiting.
   *
   * @example
   * ```ts
   * const r = q.tryGet();
   * if (r.ok) handle(r.value); else if (r.closed) return;
   * ```
   */
  tryGet(): TryGetResult<T> {
    const r = this.#remove(!this.#getGate.blocks(0));
    if (r === NOT_YET) return { ok: false, closed: false };
    if (r === CLOSED_MARK) return { ok: false, closed: true };
    return { ok: true, value: r };
  }

  #closedError(where: string): QueueClosedError {
    return new QueueClosedError(`${where}: the ThreadQueue is closed and empty`);
  }

  /**
   * Takes the next item, waiting without blocking the event loop while the queue is empty.
   * Rejects with `QueueClosedError` once the queue is closed and drained, `TimeoutError`, or
   * `AbortError`.
   *
   * @example
   * ```ts
   * const job = await q.get({ signal: AbortSignal.timeout(5000) });
   * ```
   */
  get(opts?: WaitOptions): Promise<T> {
    let r: T | NotYet | Closed;
    try {
      checkWaitOptions(opts, 'ThreadQueue.get');
      r = this.#remove(!this.#getGate.blocks(0));
    } catch (err) {
      return Promise.reject(err);
    }
    if (r === CLOSED_MARK) return Promise.reject(this.#closedError('ThreadQueue.get'));
    if (r !== NOT_YET) return Promise.resolve(r);
    return waitUntil(
      this.#getCell,
      (allowed): T | NotYet => {
        const v = this.#remove(allowed);
        if (v === CLOSED_MARK) throw this.#closedError('ThreadQueue.get');
        return v;
      },
      opts,
      'ThreadQueue.get',
    );
  }

  #getSync(opts: SyncWaitOptions | undefined, where: string): T | Closed {
    const r = this.#remove(!this.#getGate.blocks(0));
    if (r !== NOT_YET) return r;
    return waitUntilSync(this.#getCell, (allowed) => this.#remove(allowed), opts, where);
  }

  /**
   * Takes the next item, blocking the calling thread while the queue is empty. Meant for worker
   * threads; on the main thread it works but freezes the event loop while it waits.
   *
   * @example
   * ```ts
   * for (;;) { const job = q.getSync({ timeoutMs: 30_000 }); run(job); }
   * ```
   */
  getSync(opts?: SyncWaitOptions): T {
    checkWaitOptions(opts, 'ThreadQueue.getSync');
    const r = this.#getSync(opts, 'ThreadQueue.getSync');
    if (r === CLOSED_MARK) throw this.#closedError('ThreadQueue.getSync');
    return r;
  }

  /**
   * Closes the queue. Idempotent. Puts fail from now on (blocked ones at once); gets drain the
   * items left, then fail with `QueueClosedError`. With `immediate: true` (Python 3.13's
   * `shutdown(immediate=True)`) the items left are dropped instead, each counted as done for
   * `join()`, so gets fail at once and a `join()` waiting only on them returns.
   *
   * @example
   * ```ts
   * for (const x of inputs) await q.put(x);
   * q.close(); // consumers' for-await loops end after the last item
   * q.close({ immediate: true }); // or: stop now, drop what is left
   * ```
   */
  close(options?: { immediate?: boolean | undefined }): void {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new TypeError('ThreadQueue.close: options must be an object');
    }
    const was = this.#store.close();
    if (options?.immediate === true) {
      const dropped = this.#store.dropAll();
      if (dropped > 0) this.#join.done(dropped);
    } else if (was) {
      return;
    }
    wake(this.#getCell, Infinity);
    wake(this.#putCell, Infinity);
  }

  /** Items put and not yet marked done with `taskDone()` (a snapshot), as `queue.Queue` counts them. */
  get unfinishedTasks(): number {
    return this.#join.unfinished;
  }

  /**
   * Marks one item taken from the queue as processed (Python's `task_done()`): `join()` returns
   * once every item put has been marked. Throws a RangeError when called more times than items
   * were put.
   *
   * @example
   * ```ts
   * for (;;) { const job = q.getSync(); try { run(job); } finally { q.taskDone(); } }
   * ```
   */
  taskDone(): void {
    this.#join.done(1);
  }

  /**
   * Resolves once every item put has been marked done with `taskDone()` (at once if none is
   * unfinished), without blocking the event loop. Takes `{ timeoutMs, signal }`.
   *
   * @example
   * ```ts
   * for (const job of jobs) await q.put(job);
   * await q.join(); // every job processed
   * ```
   */
  join(opts?: WaitOptions): Promise<void> {
    return this.#join.join(opts);
  }

  /**
   * Blocking `join()`: meant for worker threads; on the main thread it works but freezes the
   * event loop while it waits.
   *
   * @example
   * ```ts
   * q.joinSync({ timeoutMs: 60_000 });
   * ```
   */
  joinSync(opts?: SyncWaitOptions): void {
    this.#join.joinSync(opts);
  }

  /**
   * Async iteration: yields items until the queue is closed and drained.
   *
   * @example
   * ```ts
   * for await (const msg of q) console.log(msg);
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return itemsUntilClosed(() => this.get());
  }

  /**
   * Blocking iteration for worker threads: yields items until the queue is closed and drained.
   * `timeoutMs` bounds each wait for the next item.
   *
   * @example
   * ```ts
   * for (const job of q.syncIterator()) handle(job);
   * ```
   */
  *syncIterator(opts?: SyncWaitOptions): Generator<T, void, undefined> {
    checkWaitOptions(opts, 'ThreadQueue.syncIterator');
    for (;;) {
      const r = this.#getSync(opts, 'ThreadQueue.syncIterator');
      if (r === CLOSED_MARK) return;
      yield r;
    }
  }
}

registerShareable('ThreadQueue', (state) => ThreadQueue.fromShared(state));
