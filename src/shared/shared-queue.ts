/**
 * ThreadQueue: a bounded multi-producer multi-consumer FIFO in shared memory — the threadloop
 * `queue.Queue`, usable from every thread and from async code.
 *
 * Memory (one SharedArrayBuffer):
 *   header   32 Int32 words: lock, count, head, tail, byte ring head/used, closed, the wake words
 *            and waiter counts and fairness gates of getters and putters, and the config.
 *   numbers  Float64 per slot: a number item is stored here and touches no byte ring.
 *   lengths  Int32 per slot: byte length of the item's payload in the ring.
 *   tags     Uint8 per slot: how the item is encoded.
 *   bytes    the byte ring: payloads (UTF-8 strings, v8-serialized values) back to back, FIFO,
 *            wrapping around its end.
 * Items and payloads are both FIFO, so a payload always starts at the ring head: slots need no
 * offsets.
 *
 * Encoding: numbers, booleans, null and undefined by tag alone; strings as UTF-8; anything else
 * with `v8.serialize` (the structured clone format). Serializing and deserializing happen outside
 * the internal lock, which is held only to copy bytes in or out — a few hundred nanoseconds.
 */
import { Buffer } from 'node:buffer';
import * as v8 from 'node:v8';
import { QueueClosedError, TaskSerializationError } from '../core/errors.js';
import {
  encodeShareables,
  noteShareableCreated,
  registerShareable,
  toShared,
  type Shareable,
  type SharedDescriptor,
} from '../wire/shareable.js';
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

// Header words, grouped by cache line: what moves with the lock, what getters' wake-ups touch,
// what putters' wake-ups touch.
const LOCK = 0; // 0 free, 1 held, 2 held and someone sleeps on it
const COUNT = 1;
const HEAD = 2;
const TAIL = 3;
const BHEAD = 4;
const BUSED = 5;
const CLOSED = 6;
const CAPACITY = 7;
const BYTE_CAPACITY = 8;
const MAX_ITEM_BYTES = 9;
const GET_WAKE = 16;
const GET_WAITERS = 17;
const GET_GATE = 18;
const PUT_WAKE = 32;
const PUT_WAITERS = 33;
const PUT_GATE = 34;
const HEADER_BYTES = 192;

// Item tags.
const T_UNDEFINED = 0;
const T_NULL = 1;
const T_TRUE = 2;
const T_FALSE = 3;
const T_NUMBER = 4;
const T_STRING = 5;
const T_V8 = 6;
const T_JSON = 7;

/** Nodes the JSON fast-path check visits at most before leaving an item to v8.serialize. */
const JSON_NODE_BUDGET = 1000;
const JSON_MAX_DEPTH = 32;
let jsonBudget = 0;

/**
 * True when JSON round-trips `v` exactly as structured clone would: plain objects and arrays of
 * strings, finite numbers (not -0), booleans and null, no undefined (JSON would drop the key),
 * no cycles (bounded by depth). Such items skip v8.serialize, which costs several times more.
 */
function jsonExact(v: unknown, depth: number): boolean {
  if (--jsonBudget < 0) return false;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'object': {
      if (v === null) return true;
      if (depth > JSON_MAX_DEPTH) return false;
      const proto = Object.getPrototypeOf(v);
      if (proto === Array.prototype) {
        const a = v as unknown[];
        for (let i = 0; i < a.length; i++) {
          const x = a[i];
          if (x === undefined || !jsonExact(x, depth + 1)) return false;
        }
        return true;
      }
      if (proto !== Object.prototype && proto !== null) return false;
      const o = v as Record<string, unknown>;
      for (const k in o) {
        const x = o[k];
        if (x === undefined || !jsonExact(x, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

const MAX_CAPACITY = 1 << 24;
const MAX_BYTES = 0x7fff_0000;
const DEFAULT_CAPACITY = 1024;
const DEFAULT_MAX_ITEM_BYTES = 64 * 1024;
const DEFAULT_BYTES_PER_SLOT = 256;
const DEFAULT_BYTE_CAP = 64 * 1024 * 1024;

/** Options of `new ThreadQueue()`. */
export interface ThreadQueueOptions {
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

function layout(capacity: number, byteCapacity: number): {
  numbers: number;
  lengths: number;
  tags: number;
  bytes: number;
  total: number;
} {
  const numbers = HEADER_BYTES;
  const lengths = numbers + capacity * 8;
  const tags = lengths + capacity * 4;
  const bytes = tags + Math.ceil(capacity / 8) * 8;
  return { numbers, lengths, tags, bytes, total: bytes + byteCapacity };
}

// `String.prototype.isWellFormed` is in Node >= 20 but only in TypeScript's ES2024 lib.
const isWellFormed = (s: string): boolean =>
  (s as unknown as { isWellFormed(): boolean }).isWellFormed();

// The encoder writes its result here instead of allocating a record per put.
let encTag = 0;
let encNum = 0;
let encBytes: Uint8Array | undefined;

let reviving: SharedArrayBuffer | undefined;

/**
 * A bounded FIFO queue shared by threads. Any structured-cloneable item goes in; every item comes
 * out exactly once, in order, to one getter. Pass it to tasks as an argument: it arrives live.
 * Async `put`/`get` never block the event loop; `putSync`/`getSync` block the calling thread
 * (meant for workers; on the main thread they work but freeze its event loop while they wait).
 * Items holding SharedArrayBuffers (and so threadloop primitives) cannot go through a queue —
 * pass those as task arguments.
 *
 * `close()` ends the queue: puts fail with `QueueClosedError` at once (also blocked ones), gets
 * drain what is left and then fail with `QueueClosedError`; iterators end.
 *
 * @example
 * ```ts
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
  readonly #lens: Int32Array;
  readonly #tags: Uint8Array;
  readonly #bytes: Buffer;
  readonly #capacity: number;
  readonly #byteCapacity: number;
  readonly #maxItemBytes: number;
  readonly #getGate: Gate;
  readonly #putGate: Gate;
  readonly #getCell: WaitCell;
  readonly #putCell: WaitCell;

  constructor(options: ThreadQueueOptions = {}) {
    let sab = reviving;
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
      sab = new SharedArrayBuffer(layout(capacity, byteCapacity).total);
      const h = new Int32Array(sab, 0, HEADER_BYTES / 4);
      h[CAPACITY] = capacity;
      h[BYTE_CAPACITY] = byteCapacity;
      h[MAX_ITEM_BYTES] = maxItemBytes;
    }
    this.#sab = sab;
    this.#i32 = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.#capacity = this.#i32[CAPACITY] as number;
    this.#byteCapacity = this.#i32[BYTE_CAPACITY] as number;
    this.#maxItemBytes = this.#i32[MAX_ITEM_BYTES] as number;
    const l = layout(this.#capacity, this.#byteCapacity);
    this.#f64 = new Float64Array(sab, l.numbers, this.#capacity);
    this.#lens = new Int32Array(sab, l.lengths, this.#capacity);
    this.#tags = new Uint8Array(sab, l.tags, this.#capacity);
    this.#bytes = Buffer.from(sab, l.bytes, this.#byteCapacity);
    this.#getGate = new Gate(this.#i32, GET_GATE);
    this.#putGate = new Gate(this.#i32, PUT_GATE);
    this.#getCell = { i32: this.#i32, wake: GET_WAKE, waiters: GET_WAITERS, gate: this.#getGate };
    this.#putCell = { i32: this.#i32, wake: PUT_WAKE, waiters: PUT_WAITERS, gate: this.#putGate };
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
    if (cap < 1 || bcap < 1 || layout(cap, bcap).total !== state.byteLength) {
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
    return Atomics.load(this.#i32, COUNT);
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

  // ---- internal lock: held only while copying bytes in or out ----

  #lock(): void {
    const i32 = this.#i32;
    if (Atomics.compareExchange(i32, LOCK, 0, 1) === 0) return;
    for (let spin = 0; spin < 100; spin++) {
      if (Atomics.load(i32, LOCK) === 0 && Atomics.compareExchange(i32, LOCK, 0, 1) === 0) return;
    }
    while (Atomics.exchange(i32, LOCK, 2) !== 0) Atomics.wait(i32, LOCK, 2);
  }

  #unlock(): void {
    if (Atomics.exchange(this.#i32, LOCK, 0) === 2) Atomics.notify(this.#i32, LOCK, 1);
  }

  // ---- encoding ----

  #encode(item: unknown, where: string): void {
    encBytes = undefined;
    switch (typeof item) {
      case 'number':
        encTag = T_NUMBER;
        encNum = item;
        return;
      case 'undefined':
        encTag = T_UNDEFINED;
        return;
      case 'boolean':
        encTag = item ? T_TRUE : T_FALSE;
        return;
      case 'string':
        if (isWellFormed(item)) {
          encTag = T_STRING;
          encBytes = Buffer.from(item, 'utf8');
          break;
        }
        this.#encodeV8(item, where); // UTF-8 cannot carry lone surrogates
        break;
      default:
        if (item === null) {
          encTag = T_NULL;
          return;
        }
        jsonBudget = JSON_NODE_BUDGET;
        if (typeof item === 'object' && jsonExact(item, 0)) {
          encTag = T_JSON;
          encBytes = Buffer.from(JSON.stringify(item), 'utf8');
        } else {
          this.#encodeV8(item, where);
        }
    }
    encBytes = encBytes as Uint8Array;
    if (encBytes.length > this.#maxItemBytes) {
      const n = encBytes.length;
      encBytes = undefined;
      throw new RangeError(
        `${where}: the item takes ${n} bytes encoded, more than maxItemBytes (${this.#maxItemBytes}); ` +
          'raise maxItemBytes when creating the ThreadQueue',
      );
    }
  }

  #encodeV8(item: unknown, where: string): void {
    encTag = T_V8;
    // v8.serialize would turn a Mutex (or any class instance) into `{}`: refuse Shareables.
    encodeShareables(item, 'a ThreadQueue (pass it as a task argument instead)');
    try {
      encBytes = v8.serialize(item);
    } catch (err) {
      throw new TaskSerializationError(
        `${where}: the item cannot be cloned (${(err as Error).message}); queue items must be ` +
          'structured-cloneable and hold no SharedArrayBuffer — pass shared objects as task arguments',
        { cause: err },
      );
    }
  }

  /** Puts the encoded item if there is room. Throws QueueClosedError when closed. */
  #insert(allowed: boolean): boolean {
    const i32 = this.#i32;
    const len = encBytes === undefined ? 0 : encBytes.length;
    if (
      (!allowed || Atomics.load(i32, COUNT) >= this.#capacity) &&
      Atomics.load(i32, CLOSED) === 0
    ) {
      return false; // full: no need to take the lock to learn that
    }
    this.#lock();
    if (Atomics.load(i32, CLOSED) === 1) {
      this.#unlock();
      throw new QueueClosedError('the ThreadQueue is closed');
    }
    const count = i32[COUNT] as number;
    const used = i32[BUSED] as number;
    if (!allowed || count >= this.#capacity || used + len > this.#byteCapacity) {
      this.#unlock();
      return false;
    }
    const slot = i32[TAIL] as number;
    this.#tags[slot] = encTag;
    if (encTag === T_NUMBER) {
      this.#f64[slot] = encNum;
    } else if (encBytes !== undefined) {
      this.#lens[slot] = len;
      let at = (i32[BHEAD] as number) + used;
      if (at >= this.#byteCapacity) at -= this.#byteCapacity;
      const first = this.#byteCapacity - at;
      if (len <= first) {
        this.#bytes.set(encBytes, at);
      } else {
        this.#bytes.set(encBytes.subarray(0, first), at);
        this.#bytes.set(encBytes.subarray(first), 0);
      }
      i32[BUSED] = used + len;
    } else {
      this.#lens[slot] = 0;
    }
    i32[TAIL] = slot + 1 === this.#capacity ? 0 : slot + 1;
    Atomics.store(i32, COUNT, count + 1);
    this.#unlock();
    encBytes = undefined;
    wake(this.#getCell);
    return true;
  }

  /** Takes the next item, or NOT_YET when empty, or CLOSED_MARK when closed and drained. */
  #remove(allowed: boolean): T | NotYet | Closed {
    const i32 = this.#i32;
    if (Atomics.load(i32, COUNT) === 0 || !allowed) {
      if (Atomics.load(i32, CLOSED) === 1 && Atomics.load(i32, COUNT) === 0) return CLOSED_MARK;
      return NOT_YET;
    }
    this.#lock();
    const count = i32[COUNT] as number;
    if (count === 0) {
      const closed = Atomics.load(i32, CLOSED) === 1;
      this.#unlock();
      return closed ? CLOSED_MARK : NOT_YET;
    }
    const slot = i32[HEAD] as number;
    const tag = this.#tags[slot];
    let value: unknown;
    let raw: Uint8Array | undefined;
    if (tag === T_NUMBER) {
      value = this.#f64[slot];
    } else if (tag === T_STRING || tag === T_V8 || tag === T_JSON) {
      const len = this.#lens[slot] as number;
      const at = i32[BHEAD] as number;
      const first = this.#byteCapacity - at;
      if (tag !== T_V8) {
        value =
          len <= first
            ? this.#bytes.toString('utf8', at, at + len)
            : Buffer.concat([
                this.#bytes.subarray(at, this.#byteCapacity),
                this.#bytes.subarray(0, len - first),
              ]).toString('utf8');
      } else {
        raw = new Uint8Array(len);
        if (len <= first) {
          raw.set(this.#bytes.subarray(at, at + len));
        } else {
          raw.set(this.#bytes.subarray(at, this.#byteCapacity));
          raw.set(this.#bytes.subarray(0, len - first), first);
        }
      }
      const nextAt = at + len;
      i32[BHEAD] = nextAt >= this.#byteCapacity ? nextAt - this.#byteCapacity : nextAt;
      i32[BUSED] = (i32[BUSED] as number) - len;
    } else {
      value = tag === T_TRUE ? true : tag === T_FALSE ? false : tag === T_NULL ? null : undefined;
    }
    i32[HEAD] = slot + 1 === this.#capacity ? 0 : slot + 1;
    Atomics.store(i32, COUNT, count - 1);
    this.#unlock();
    wake(this.#putCell);
    if (raw !== undefined) value = v8.deserialize(raw);
    else if (tag === T_JSON) value = JSON.parse(value as string);
    return value as T;
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
  tryPut(item: T): boolean {
    this.#encode(item, 'ThreadQueue.tryPut');
    return this.#insert(!this.#putGate.blocks(0));
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
  put(item: T, opts?: WaitOptions): Promise<void> {
    try {
      checkWaitOptions(opts, 'ThreadQueue.put');
      this.#encode(item, 'ThreadQueue.put');
      if (this.#insert(!this.#putGate.blocks(0))) return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
    // Keep the encoded item: later puts overwrite the module-level scratch.
    const tag = encTag;
    const num = encNum;
    const bytes = encBytes;
    return waitUntil(
      this.#putCell,
      (allowed): true | NotYet => {
        encTag = tag;
        encNum = num;
        encBytes = bytes;
        return this.#insert(allowed) ? true : NOT_YET;
      },
      opts,
      'ThreadQueue.put',
    ).then(() => undefined);
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
  putSync(item: T, opts?: SyncWaitOptions): void {
    checkWaitOptions(opts, 'ThreadQueue.putSync');
    this.#encode(item, 'ThreadQueue.putSync');
    if (this.#insert(!this.#putGate.blocks(0))) return;
    const tag = encTag;
    const num = encNum;
    const bytes = encBytes;
    waitUntilSync(
      this.#putCell,
      (allowed): true | NotYet => {
        encTag = tag;
        encNum = num;
        encBytes = bytes;
        return this.#insert(allowed) ? true : NOT_YET;
      },
      opts,
      'ThreadQueue.putSync',
    );
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
   * items left, then fail with `QueueClosedError`.
   *
   * @example
   * ```ts
   * for (const x of inputs) await q.put(x);
   * q.close(); // consumers' for-await loops end after the last item
   * ```
   */
  close(): void {
    this.#lock();
    const was = Atomics.exchange(this.#i32, CLOSED, 1);
    this.#unlock();
    if (was === 1) return;
    wake(this.#getCell, Infinity);
    wake(this.#putCell, Infinity);
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
