/**
 * ThreadQueue: a bounded multi-producer multi-consumer FIFO in shared memory — the threadloop
 * `queue.Queue`, usable from every thread and from async code.
 *
 * It is a ring with a producer side and a consumer side that share as little as possible: on
 * this kind of machine every cache line that moves between cores costs more than the whole
 * put or get, so the layout is built to move few of them.
 *
 * - Producers take the producer lock and own the tail; consumers take the consumer lock and own
 *   the head. With one producer and one consumer each lock stays in its own core's cache.
 * - Each side keeps its last view of the other side's index on its own cache line and reads the
 *   real one only when the ring looks full (producers) or empty (consumers): a side that runs
 *   behind then takes a whole batch per look instead of a cache miss per item.
 * - An item is one 8-byte slot — a float64, or a NaN-boxed tag and payload length — so eight
 *   items share a cache line. Payloads (strings, plain data, v8-serialized values; see queue-codec.ts)
 *   go back to back into a byte ring, FIFO like the items, so a payload always starts where the
 *   previous one ended and slots need no offsets.
 *
 * Memory (one SharedArrayBuffer), in groups 128 bytes apart (a cache line and its prefetch
 * buddy):
 *   config     capacity, byte capacity, max item bytes, closed (written once)
 *   producers  lock, tail, cached head, byte write position and total, cached byte read total,
 *              commit record
 *   consumers  lock, head, cached tail, byte read position and total, commit record
 *   getters    wake word, waiter count, fairness gate
 *   putters    wake word, waiter count, fairness gate
 *   slots      8 bytes per item
 *   bytes      the byte ring
 * Indices run from 0 to 2 × capacity (so a full ring differs from an empty one); byte totals
 * are running sums modulo 2^32.
 *
 * Encoding and decoding happen outside the locks, which are held only to copy bytes in or out.
 *
 * A thread can die holding a side lock (see side-lock.ts); the thread that takes the lock over
 * must find the side as it was before the dead operation or as it would be after it, never half
 * way. An operation that moves only its index (a number, a boolean, null) publishes it with one
 * store. One that also moves a byte position writes a commit record — the new positions, then
 * the index + 1 in the record's ARM word, the commit point — before it stores them, and clears
 * ARM after: the taker finishes an armed record (the item is put, or taken) and otherwise finds
 * nothing published (a put that never happened, an item still in the queue). So a thread killed
 * inside `put` has put its item or not, and one killed inside `get` has taken its item (gone with
 * the thread) or left it for the next getter; nothing is duplicated, and no other item is lost.
 */
import { Buffer } from 'node:buffer';
import { QueueClosedError } from '../core/errors.js';
import {
  noteShareableCreated,
  registerShareable,
  toShared,
  type Shareable,
  type SharedDescriptor,
} from '../wire/shareable.js';
import {
  clearEncoded,
  decodePayload,
  enc,
  encodeItem,
  readPayload,
  restoreEncoded,
  saveEncoded,
  tagValue,
  T_NUMBER,
  T_PLAIN,
  T_STRING,
  writePayload,
} from './queue-codec.js';
import { OrderedStore, orderedStoreBytes, type StoreOrder } from './ordered-store.js';
import { SIDE_LOCK_WORDS, SideLock } from './side-lock.js';
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

const GROUP = 32; // Int32 words per group: 128 bytes
// config
const CAPACITY = 0;
const BYTE_CAPACITY = 1;
const MAX_ITEM_BYTES = 2;
const CLOSED = 3;
const ORDER = 4; // 0 FIFO (the ring), 1 LIFO, 2 priority (ordered-store.ts)
// producers
const P_LOCK = GROUP;
const TAIL = P_LOCK + SIDE_LOCK_WORDS;
const P_HEAD = TAIL + 1;
const WPOS = TAIL + 2;
const WTOTAL = TAIL + 3;
const P_RTOTAL = TAIL + 4;
const PUTS = TAIL + 5; // items ever put (wrapping): unfinished tasks = PUTS - DONES
const P_ARM = TAIL + 6; // commit record: 0, or the tail being published + 1
const P_WPOS = TAIL + 7; // ... and the byte position, byte total and put count it comes with
const P_WTOTAL = TAIL + 8;
const P_PUTS = TAIL + 9;
// consumers
const C_LOCK = 2 * GROUP;
const HEAD = C_LOCK + SIDE_LOCK_WORDS;
const C_TAIL = HEAD + 1;
const RPOS = HEAD + 2;
const RTOTAL = HEAD + 3;
const C_ARM = HEAD + 4; // commit record: 0, or the head being published + 1
const C_RPOS = HEAD + 5;
const C_RTOTAL = HEAD + 6;
// waiters
const GET_WAKE = 3 * GROUP;
const GET_WAITERS = 3 * GROUP + 1;
const GET_GATE = 3 * GROUP + 2;
const PUT_WAKE = 4 * GROUP;
const PUT_WAITERS = 4 * GROUP + 1;
const PUT_GATE = 4 * GROUP + 2;
// join
const DONES = 5 * GROUP; // taskDone() calls (wrapping)
const JOIN_WAKE = 5 * GROUP + 1;
const JOIN_WAITERS = 5 * GROUP + 2;
const HEADER_BYTES = 6 * GROUP * 4;

// A slot holding no number holds a NaN whose high word is BOX | tag and whose low word is the
// payload length. No number is stored with that high word: NaN items are boxed by tag too.
const BOX = -0x10000;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = 1 - HI;

const MAX_CAPACITY = 1 << 24;
const MAX_BYTES = 0x7fff_0000;
const DEFAULT_CAPACITY = 1024;
const DEFAULT_MAX_ITEM_BYTES = 64 * 1024;
const DEFAULT_BYTES_PER_SLOT = 256;
const DEFAULT_BYTE_CAP = 64 * 1024 * 1024;

const ORDERS = ['fifo', 'lifo', 'priority'] as const;

/** Options of `new ThreadQueue()`. */
export interface ThreadQueueOptions {
  /**
   * Which item a get takes: `'fifo'` the oldest (`queue.Queue`, the default), `'lifo'` the newest
   * (`queue.LifoQueue`), `'priority'` the one put with the lowest `priority`, the oldest of equals
   * (`queue.PriorityQueue`). Every order keeps every other guarantee of the queue.
   */
  order?: 'fifo' | 'lifo' | 'priority';
  /** Most items the queue holds; a put waits while it is full. Default 1024, max 2^24. */
  capacity?: number;
  /**
   * Largest encoded item, in bytes (UTF-8 for strings, v8 serialization for objects; numbers,
   * booleans, null and undefined take none). A larger item is refused with a RangeError.
   * Default 64 KiB.
   */
  maxItemBytes?: number;
  /**
   * Size of the shared byte ring holding encoded items; a put also waits while the ring cannot
   * take its item. At least `maxItemBytes`, so any allowed item fits once the queue drains.
   * Default: max(maxItemBytes, min(capacity × 256, 64 MiB)).
   */
  byteCapacity?: number;
}

/** Result of `tryGet`. */
export type TryGetResult<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      /** True when the queue is closed and drained: nothing will ever come. */
      closed: boolean;
    };

const CLOSED_MARK: unique symbol = Symbol('threadloop.queueClosed');
type Closed = typeof CLOSED_MARK;

function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new TypeError(`ThreadQueue: ${name} must be an integer (got ${String(v)})`);
  }
  if (v < min || v > max) {
    throw new RangeError(`ThreadQueue: ${name} must be from ${min} to ${max} (got ${v})`);
  }
  return v;
}

function layout(capacity: number, byteCapacity: number, order: number): {
  slots: number;
  bytes: number;
  total: number;
} {
  const slots = HEADER_BYTES;
  if (order !== 0) return { slots, bytes: slots, total: slots + orderedStoreBytes(capacity, byteCapacity) };
  const bytes = slots + capacity * 8;
  return { slots, bytes, total: bytes + byteCapacity };
}

/** Options of a put: the item's priority, for a queue with `order: 'priority'`. */
export interface PutOptions {
  /** Lower comes out first; equal priorities come out in the order they were put. Default 0. */
  priority?: number;
}

/** The priority of the put in progress (set with `enc`, kept with it by a put that waits). */
let pendingPriority = 0;

const RESOLVED: Promise<void> = Promise.resolve();

let reviving: SharedArrayBuffer | undefined;

/**
 * A bounded queue shared by threads: FIFO by default, or LIFO, or by priority (`order`). Any
 * structured-cloneable item goes in; every item comes out exactly once, in order, to one getter. Pass it to tasks as an argument: it arrives live.
 * Async `put`/`get` never block the event loop; `putSync`/`getSync` block the calling thread
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
  readonly #f64: Float64Array;
  /** The slots again, as (low, high) word pairs. */
  readonly #words: Int32Array;
  readonly #bytes: Buffer;
  readonly #capacity: number;
  /** Indices wrap here: twice the capacity. */
  readonly #span: number;
  readonly #byteCapacity: number;
  readonly #maxItemBytes: number;
  readonly #getGate: Gate;
  readonly #putGate: Gate;
  readonly #getCell: WaitCell;
  readonly #putCell: WaitCell;
  readonly #joinCell: WaitCell;
  readonly #putLock: SideLock;
  readonly #getLock: SideLock;
  /** The storage of a LIFO or priority queue; undefined for FIFO, which uses the ring. */
  readonly #store: OrderedStore | undefined;

  constructor(options: ThreadQueueOptions = {}) {
    let sab = reviving;
    let fresh = false;
    reviving = undefined;
    if (sab === undefined) {
      if (typeof options !== 'object' || options === null) {
        throw new TypeError('ThreadQueue: options must be an object');
      }
      const capacity = checkInt('capacity', options.capacity ?? DEFAULT_CAPACITY, 1, MAX_CAPACITY);
      const maxItemBytes = checkInt(
        'maxItemBytes',
        options.maxItemBytes ?? DEFAULT_MAX_ITEM_BYTES,
        1,
        MAX_BYTES,
      );
      const byteCapacity = checkInt(
        'byteCapacity',
        options.byteCapacity ??
          Math.max(maxItemBytes, Math.min(capacity * DEFAULT_BYTES_PER_SLOT, DEFAULT_BYTE_CAP)),
        maxItemBytes,
        MAX_BYTES,
      );
      const order = ORDERS.indexOf(options.order ?? 'fifo');
      if (order < 0) {
        throw new TypeError(`ThreadQueue: order must be 'fifo', 'lifo' or 'priority' (got ${String(options.order)})`);
      }
      sab = new SharedArrayBuffer(layout(capacity, byteCapacity, order).total);
      const h = new Int32Array(sab, 0, HEADER_BYTES / 4);
      h[CAPACITY] = capacity;
      h[BYTE_CAPACITY] = byteCapacity;
      h[MAX_ITEM_BYTES] = maxItemBytes;
      h[ORDER] = order;
      fresh = true;
    }
    this.#sab = sab;
    this.#i32 = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.#capacity = this.#i32[CAPACITY] as number;
    this.#span = 2 * this.#capacity;
    this.#byteCapacity = this.#i32[BYTE_CAPACITY] as number;
    this.#maxItemBytes = this.#i32[MAX_ITEM_BYTES] as number;
    const order = this.#i32[ORDER] as number;
    const l = layout(this.#capacity, this.#byteCapacity, order);
    this.#store =
      order === 0
        ? undefined
        : new OrderedStore(sab, l.slots, this.#capacity, this.#byteCapacity, ORDERS[order] as StoreOrder, this.#i32, PUTS, fresh);
    this.#f64 = new Float64Array(sab, l.slots, order === 0 ? this.#capacity : 0);
    this.#words = new Int32Array(sab, l.slots, order === 0 ? 2 * this.#capacity : 0);
    this.#bytes = Buffer.from(sab, l.bytes, order === 0 ? this.#byteCapacity : 0);
    this.#getGate = new Gate(this.#i32, GET_GATE);
    this.#putGate = new Gate(this.#i32, PUT_GATE);
    this.#getCell = { i32: this.#i32, wake: GET_WAKE, waiters: GET_WAITERS, gate: this.#getGate };
    this.#putCell = { i32: this.#i32, wake: PUT_WAKE, waiters: PUT_WAITERS, gate: this.#putGate };
    this.#joinCell = { i32: this.#i32, wake: JOIN_WAKE, waiters: JOIN_WAITERS };
    this.#putLock = new SideLock(this.#i32, P_LOCK, () => this.#finishPut());
    this.#getLock = new SideLock(this.#i32, C_LOCK, () => this.#finishGet());
    noteShareableCreated();
  }

  /** Rebuilds a ThreadQueue from `[toShared]().state` (the wire does this on arrival). */
  static fromShared<T = unknown>(state: unknown): ThreadQueue<T> {
    if (!(state instanceof SharedArrayBuffer) || state.byteLength < HEADER_BYTES) {
      throw new TypeError('ThreadQueue.fromShared: expected the SharedArrayBuffer of a ThreadQueue');
    }
    const h = new Int32Array(state, 0, HEADER_BYTES / 4);
    const cap = h[CAPACITY] as number;
    const bcap = h[BYTE_CAPACITY] as number;
    const order = h[ORDER] as number;
    if (cap < 1 || bcap < 1 || !(order in ORDERS) || layout(cap, bcap, order).total !== state.byteLength) {
      throw new TypeError('ThreadQueue.fromShared: expected the SharedArrayBuffer of a ThreadQueue');
    }
    reviving = state;
    return new ThreadQueue<T>();
  }

  [toShared](): SharedDescriptor {
    return { kind: 'ThreadQueue', state: this.#sab };
  }

  /** Items in the queue right now (a snapshot). */
  get size(): number {
    if (this.#store !== undefined) return this.#store.size;
    // Head first: the tail only grows after it, so the difference is never negative.
    const head = Atomics.load(this.#i32, HEAD);
    const n = this.#count(Atomics.load(this.#i32, TAIL), head);
    return n > this.#capacity ? this.#capacity : n;
  }

  /** Which item a get takes: `'fifo'`, `'lifo'` or `'priority'`. */
  get order(): 'fifo' | 'lifo' | 'priority' {
    return ORDERS[this.#i32[ORDER] as number] as 'fifo' | 'lifo' | 'priority';
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

  #count(tail: number, head: number): number {
    const n = tail - head;
    return n < 0 ? n + this.#span : n;
  }

  #next(index: number): number {
    return index + 1 === this.#span ? 0 : index + 1;
  }

  #slot(index: number): number {
    return index < this.#capacity ? index : index - this.#capacity;
  }

  // ---- after a holder died: finish its armed commit, if any (see the file comment) ----

  #finishPut(): void {
    const i32 = this.#i32;
    const arm = i32[P_ARM] as number;
    if (arm === 0) return;
    i32[WPOS] = i32[P_WPOS] as number;
    i32[WTOTAL] = i32[P_WTOTAL] as number;
    i32[PUTS] = i32[P_PUTS] as number;
    Atomics.store(i32, TAIL, arm - 1);
    Atomics.store(i32, P_ARM, 0);
    wake(this.#getCell);
  }

  #finishGet(): void {
    const i32 = this.#i32;
    const arm = i32[C_ARM] as number;
    if (arm === 0) return;
    i32[RPOS] = i32[C_RPOS] as number;
    Atomics.store(i32, RTOTAL, i32[C_RTOTAL] as number);
    Atomics.store(i32, HEAD, arm - 1);
    Atomics.store(i32, C_ARM, 0);
    wake(this.#putCell);
  }

  // ---- producer side ----

  /**
   * Puts the item in `enc` if there is room. Throws QueueClosedError when closed. `allowed` is
   * false while another putter holds the fairness gate.
   */
  #insert(allowed: boolean): boolean {
    const i32 = this.#i32;
    if (!allowed) {
      if (Atomics.load(i32, CLOSED) === 1) throw new QueueClosedError('the ThreadQueue is closed');
      return false;
    }
    if (this.#store !== undefined) return this.#insertOrdered(this.#store);
    const lock = this.#putLock;
    lock.lock();
    // close() sets CLOSED under this lock, so no put lands after it.
    if (Atomics.load(i32, CLOSED) === 1) {
      lock.unlock();
      throw new QueueClosedError('the ThreadQueue is closed');
    }
    const tail = i32[TAIL] as number;
    if (!this.#hasRoom(tail) || (enc.len > 0 && !this.#hasBytes(enc.len))) {
      lock.unlock();
      return false;
    }
    const s = this.#slot(tail);
    if (enc.tag === T_NUMBER) {
      this.#f64[s] = enc.num;
    } else {
      this.#words[2 * s + LO] = enc.len;
      this.#words[2 * s + HI] = BOX | enc.tag;
    }
    this.#publish(this.#next(tail));
    lock.unlock();
    clearEncoded();
    wake(this.#getCell);
    return true;
  }

  #insertOrdered(store: OrderedStore): boolean {
    store.lock.lock();
    if (Atomics.load(this.#i32, CLOSED) === 1) {
      store.lock.unlock();
      throw new QueueClosedError('the ThreadQueue is closed');
    }
    const ok = store.insert(pendingPriority);
    store.lock.unlock();
    if (!ok) return false;
    clearEncoded();
    wake(this.#getCell);
    return true;
  }

  /** Whether a slot is free, looking at the consumers' head only when the cached one says no. */
  #hasRoom(tail: number): boolean {
    const i32 = this.#i32;
    if (this.#count(tail, i32[P_HEAD] as number) < this.#capacity) return true;
    const head = Atomics.load(i32, HEAD);
    i32[P_HEAD] = head;
    return this.#count(tail, head) < this.#capacity;
  }

  /** Whether the byte ring takes `len` more bytes; same caching as #hasRoom. */
  #hasBytes(len: number): boolean {
    const i32 = this.#i32;
    const written = i32[WTOTAL] as number;
    const room = this.#byteCapacity - len;
    if ((written - (i32[P_RTOTAL] as number)) >>> 0 <= room) return true;
    const read = Atomics.load(i32, RTOTAL);
    i32[P_RTOTAL] = read;
    return (written - read) >>> 0 <= room;
  }

  /**
   * Writes the payload of `enc` (if any) and publishes it with the slot written before, the tail
   * becoming `next`, through the commit record.
   */
  #publish(next: number): void {
    const i32 = this.#i32;
    let wpos = i32[WPOS] as number;
    let wtotal = i32[WTOTAL] as number;
    if (enc.len > 0) {
      writePayload(this.#bytes, wpos);
      const end = wpos + enc.len;
      wpos = end >= this.#byteCapacity ? end - this.#byteCapacity : end;
      wtotal = (wtotal + enc.len) | 0;
    }
    const puts = ((i32[PUTS] as number) + 1) | 0;
    i32[P_WPOS] = wpos;
    i32[P_WTOTAL] = wtotal;
    i32[P_PUTS] = puts;
    Atomics.store(i32, P_ARM, next + 1);
    i32[WPOS] = wpos;
    i32[WTOTAL] = wtotal;
    Atomics.store(i32, PUTS, puts);
    // Publishing the tail publishes the slot and payload written before it.
    Atomics.store(i32, TAIL, next);
    Atomics.store(i32, P_ARM, 0);
  }

  // ---- consumer side ----

  /** Takes the next item, or NOT_YET when empty, or CLOSED_MARK when closed and drained. */
  #remove(allowed: boolean): T | NotYet | Closed {
    const i32 = this.#i32;
    if (!allowed) return this.#drained() ? CLOSED_MARK : NOT_YET;
    if (this.#store !== undefined) return this.#removeOrdered(this.#store);
    const lock = this.#getLock;
    lock.lock();
    const head = i32[HEAD] as number;
    if (head === i32[C_TAIL] && !this.#refreshTail(head)) {
      const closed = this.#drained();
      lock.unlock();
      return closed ? CLOSED_MARK : NOT_YET;
    }
    const s = this.#slot(head);
    const hi = this.#words[2 * s + HI] as number;
    const next = this.#next(head);
    let value: unknown;
    let tag = T_NUMBER;
    if (hi >> 16 !== BOX >> 16) {
      value = this.#f64[s];
    } else {
      tag = hi & 0xff;
      if (tag >= T_STRING) value = this.#takePayload(tag, this.#words[2 * s + LO] as number, next);
      else value = tagValue(tag);
    }
    // Publishing the head gives the slot back to producers (a payload's bytes went before it).
    if (tag < T_STRING) Atomics.store(i32, HEAD, next);
    lock.unlock();
    wake(this.#putCell);
    return (tag < T_PLAIN ? value : decodePayload(tag, value as string | Uint8Array)) as T;
  }

  #removeOrdered(store: OrderedStore): T | NotYet | Closed {
    store.lock.lock();
    const taken = store.remove();
    const closed = taken === undefined && Atomics.load(this.#i32, CLOSED) === 1;
    store.lock.unlock();
    if (taken === undefined) return closed ? CLOSED_MARK : NOT_YET;
    wake(this.#putCell);
    const { tag, value } = taken;
    if (tag === T_NUMBER) return value as T;
    if (tag < T_STRING) return tagValue(tag) as T;
    return (tag < T_PLAIN ? value : decodePayload(tag, value as string | Uint8Array)) as T;
  }

  /** Reloads the producers' tail into the consumers' cache; false when the ring is still empty. */
  #refreshTail(head: number): boolean {
    const tail = Atomics.load(this.#i32, TAIL);
    this.#i32[C_TAIL] = tail;
    return tail !== head;
  }

  /** True when the queue is closed and holds nothing. */
  #drained(): boolean {
    const i32 = this.#i32;
    if (Atomics.load(i32, CLOSED) === 0) return false;
    if (this.#store !== undefined) return this.#store.size === 0;
    // Every put finished before close() set CLOSED, so this tail is final.
    return Atomics.load(i32, TAIL) === Atomics.load(i32, HEAD);
  }

  /** Reads a payload and publishes its bytes and slot as free, `head` becoming `next`, by commit record. */
  #takePayload(tag: number, len: number, next: number): string | Uint8Array {
    const i32 = this.#i32;
    const at = i32[RPOS] as number;
    const payload = readPayload(this.#bytes, at, len, tag);
    const end = at + len;
    const rpos = end >= this.#byteCapacity ? end - this.#byteCapacity : end;
    const rtotal = ((i32[RTOTAL] as number) + len) | 0;
    i32[C_RPOS] = rpos;
    i32[C_RTOTAL] = rtotal;
    Atomics.store(i32, C_ARM, next + 1);
    i32[RPOS] = rpos;
    Atomics.store(i32, RTOTAL, rtotal);
    Atomics.store(i32, HEAD, next);
    Atomics.store(i32, C_ARM, 0);
    return payload;
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
  close(options?: { immediate?: boolean }): void {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new TypeError('ThreadQueue.close: options must be an object');
    }
    const lock = this.#store?.lock ?? this.#putLock;
    lock.lock();
    const was = Atomics.exchange(this.#i32, CLOSED, 1);
    lock.unlock();
    if (options?.immediate === true) this.#dropAll();
    if (was === 1 && options?.immediate !== true) return;
    wake(this.#getCell, Infinity);
    wake(this.#putCell, Infinity);
  }

  /** Drops every item of a closed queue (its tail is final), counting each as done. */
  #dropAll(): void {
    const i32 = this.#i32;
    const store = this.#store;
    if (store !== undefined) {
      store.lock.lock();
      const dropped = store.clear();
      store.lock.unlock();
      if (dropped > 0) this.#done(dropped);
      return;
    }
    const lock = this.#getLock;
    lock.lock();
    const head = i32[HEAD] as number;
    const tail = Atomics.load(i32, TAIL);
    const n = this.#count(tail, head);
    if (n > 0) {
      const rpos = Atomics.load(i32, WPOS);
      const rtotal = Atomics.load(i32, WTOTAL);
      i32[C_RPOS] = rpos;
      i32[C_RTOTAL] = rtotal;
      Atomics.store(i32, C_ARM, tail + 1);
      i32[RPOS] = rpos;
      Atomics.store(i32, RTOTAL, rtotal);
      Atomics.store(i32, HEAD, tail);
      Atomics.store(i32, C_ARM, 0);
    }
    lock.unlock();
    if (n > 0) this.#done(n);
  }

  /** Items put and not yet marked done with `taskDone()` (a snapshot), as `queue.Queue` counts them. */
  get unfinishedTasks(): number {
    return (Atomics.load(this.#i32, PUTS) - Atomics.load(this.#i32, DONES)) | 0;
  }

  #done(n: number): void {
    const i32 = this.#i32;
    for (;;) {
      const done = Atomics.load(i32, DONES);
      const left = (Atomics.load(i32, PUTS) - done) | 0;
      if (left < n) {
        throw new RangeError('ThreadQueue.taskDone: called more times than items were put');
      }
      if (Atomics.compareExchange(i32, DONES, done, (done + n) | 0) !== done) continue;
      if (left === n) wake(this.#joinCell, Infinity);
      return;
    }
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
    this.#done(1);
  }

  #joined = (): true | NotYet => (this.unfinishedTasks <= 0 ? true : NOT_YET);

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
  async join(opts?: WaitOptions): Promise<void> {
    checkWaitOptions(opts, 'ThreadQueue.join');
    if (this.#joined() === true) return;
    await waitUntil(this.#joinCell, this.#joined, opts, 'ThreadQueue.join');
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
    checkWaitOptions(opts, 'ThreadQueue.joinSync');
    waitUntilSync(this.#joinCell, this.#joined, opts, 'ThreadQueue.joinSync');
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
    let done = false;
    const finish = (err: unknown): IteratorResult<T, undefined> => {
      if (err instanceof QueueClosedError) {
        done = true;
        return { done: true, value: undefined };
      }
      throw err;
    };
    return {
      next: (): Promise<IteratorResult<T, undefined>> => {
        if (done) return Promise.resolve({ done: true, value: undefined });
        return this.get().then((value) => ({ done: false, value }), finish);
      },
      return: (): Promise<IteratorResult<T, undefined>> => {
        done = true;
        return Promise.resolve({ done: true, value: undefined });
      },
    };
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
