/**
 * The storage of a LIFO or priority ThreadQueue (`order: 'lifo' | 'priority'`): items leave in
 * an order other than the one they came in, so their payloads cannot live in a FIFO byte ring.
 *
 * Memory (its own region of the queue's SharedArrayBuffer), in Int32 words unless said:
 *   meta     the lock (side-lock.ts), COUNT, FREE_COUNT, TOP, LIVE_BYTES, SEQ, HALF, and the
 *            intent of the operation in progress (OP, OP_PUTS)
 *   entries  one per item place: priority and number value (float64s), arrival sequence, STATE
 *            (0 = free, else the item's tag + 1), payload length, and its offset in each half
 *   heap     the places holding items, as a binary heap in taking order
 *   free     the free places, as a stack
 *   arena    two halves of `byteCapacity` bytes; payloads are appended to the live half at TOP,
 *            and when it runs out the live ones are copied to the other half, which then becomes
 *            the live one — one store (HALF), so a copy that dies half way changed nothing.
 *
 * An item's entry STATE is the one source of truth: a put commits by setting it, a get by
 * clearing it; the heap, the free stack and the counters follow from the entries. So the thread
 * that takes the lock over from a dead holder rebuilds them from the entries (`recover`), and
 * finds the dead operation done or not done, never half done. The put count for `join()` is
 * stored absolute from the intent, as the queue's FIFO side does.
 */
import { Buffer } from 'node:buffer';
import { QueueClosedError } from '../wire/errors.js';
import { CLOSED, CLOSED_MARK, PUTS, type QueueStore } from './queue-layout.js';
import {
  clearEncoded,
  decodePayload,
  enc,
  readPayload,
  tagValue,
  T_NUMBER,
  T_PLAIN,
  T_STRING,
  writePayload,
} from './queue-codec.js';
import { SIDE_LOCK_WORDS, SideLock } from './side-lock.js';
import { NOT_YET } from './wait.js';

const META_WORDS = 16;
const LOCK = 0;
const COUNT = SIDE_LOCK_WORDS;
const FREE_COUNT = COUNT + 1;
const TOP = COUNT + 2;
const LIVE_BYTES = COUNT + 3;
const SEQ = COUNT + 4;
const HALF = COUNT + 5;
const OP = COUNT + 6; // 0, or the place being put + 1, or -(the place being taken + 1)
const OP_PUTS = COUNT + 7;

const ENTRY_WORDS = 10; // two float64s, then the words below
const E_SEQ = 4;
const E_STATE = 5;
const E_LEN = 6;
const E_OFF = 7; // E_OFF + half

/** Taking orders other than FIFO. */
export type StoreOrder = 'lifo' | 'priority';

/** Bytes of the region a store of `capacity` items and `byteCapacity` payload bytes needs. */
export function orderedStoreBytes(capacity: number, byteCapacity: number): number {
  return (META_WORDS + capacity * (ENTRY_WORDS + 2)) * 4 + 2 * byteCapacity;
}

/**
 * The entries, heap and arena over a region of a SharedArrayBuffer; `header` is the queue's.
 *
 * @example
 * ```ts
 * const store = new OrderedStore(sab, offset, 1024, 65536, 'priority', header, true);
 * if (store.insert(priority)) wakeGetters();
 * ```
 */
export class OrderedStore implements QueueStore {
  readonly #lock: SideLock;
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  readonly #halves: [Buffer, Buffer];
  readonly #capacity: number;
  readonly #byteCapacity: number;
  readonly #entries: number;
  readonly #heap: number;
  readonly #free: number;
  readonly #lifo: boolean;
  /** The queue's header: its put count and CLOSED live there. */
  readonly #header: Int32Array;
  readonly #puts = PUTS;

  constructor(
    sab: SharedArrayBuffer,
    offset: number,
    capacity: number,
    byteCapacity: number,
    order: StoreOrder,
    header: Int32Array,
    fresh: boolean,
  ) {
    const words = META_WORDS + capacity * (ENTRY_WORDS + 2);
    this.#i32 = new Int32Array(sab, offset, words);
    this.#f64 = new Float64Array(sab, offset, words >> 1);
    const arena = offset + words * 4;
    this.#halves = [Buffer.from(sab, arena, byteCapacity), Buffer.from(sab, arena + byteCapacity, byteCapacity)];
    this.#capacity = capacity;
    this.#byteCapacity = byteCapacity;
    this.#entries = META_WORDS;
    this.#heap = META_WORDS + capacity * ENTRY_WORDS;
    this.#free = this.#heap + capacity;
    this.#lifo = order === 'lifo';
    this.#header = header;
    this.#lock = new SideLock(this.#i32, LOCK, () => this.#recover());
    if (fresh) this.#rebuild();
  }

  /** Items held right now (a snapshot). */
  get size(): number {
    return Atomics.load(this.#i32, COUNT);
  }

  #e(place: number): number {
    return this.#entries + place * ENTRY_WORDS;
  }

  /** Whether the item at place `a` is taken before the one at `b`. */
  #before(a: number, b: number): boolean {
    const i32 = this.#i32;
    const ea = this.#e(a);
    const eb = this.#e(b);
    const bySeq = ((i32[ea + E_SEQ] as number) - (i32[eb + E_SEQ] as number)) | 0;
    if (this.#lifo) return bySeq > 0;
    const pa = this.#f64[ea >> 1] as number;
    const pb = this.#f64[eb >> 1] as number;
    return pa < pb || (pa === pb && bySeq < 0);
  }

  #siftUp(at: number): void {
    const i32 = this.#i32;
    const h = this.#heap;
    const place = i32[h + at] as number;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      const p = i32[h + parent] as number;
      if (!this.#before(place, p)) break;
      i32[h + at] = p;
      at = parent;
    }
    i32[h + at] = place;
  }

  #siftDown(at: number, count: number): void {
    const i32 = this.#i32;
    const h = this.#heap;
    const place = i32[h + at] as number;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= count) break;
      const right = child + 1;
      if (right < count && this.#before(i32[h + right] as number, i32[h + child] as number)) child = right;
      const c = i32[h + child] as number;
      if (!this.#before(c, place)) break;
      i32[h + at] = c;
      at = child;
    }
    i32[h + at] = place;
  }

  insert(priority: number): boolean {
    this.#lock.lock();
    // close() sets CLOSED under this lock, so no put lands after it.
    if (Atomics.load(this.#header, CLOSED) === 1) {
      this.#lock.unlock();
      throw new QueueClosedError('the ThreadQueue is closed');
    }
    const ok = this.#insert(priority);
    this.#lock.unlock();
    if (ok) clearEncoded();
    return ok;
  }

  /** Puts `enc` with `priority`; false when there is no place or no room for its bytes. */
  #insert(priority: number): boolean {
    const i32 = this.#i32;
    const count = i32[COUNT] as number;
    const len = enc.len;
    if (count === this.#capacity) return false;
    if (len > 0) {
      if ((i32[LIVE_BYTES] as number) + len > this.#byteCapacity) return false;
      if ((i32[TOP] as number) + len > this.#byteCapacity) this.#compact();
    }
    const freeCount = i32[FREE_COUNT] as number;
    const place = i32[this.#free + freeCount - 1] as number;
    const e = this.#e(place);
    const half = i32[HALF] as number;
    const top = i32[TOP] as number;
    this.#f64[e >> 1] = priority;
    if (enc.tag === T_NUMBER) this.#f64[(e >> 1) + 1] = enc.num;
    i32[e + E_SEQ] = i32[SEQ] as number;
    i32[e + E_LEN] = len;
    i32[e + E_OFF + half] = top;
    if (len > 0) writePayload(this.#halves[half as 0 | 1], top);
    const puts = ((this.#header[this.#puts] as number) + 1) | 0;
    i32[OP_PUTS] = puts;
    Atomics.store(i32, OP, place + 1);
    Atomics.store(i32, e + E_STATE, enc.tag + 1); // the commit point
    Atomics.store(this.#header, this.#puts, puts);
    i32[FREE_COUNT] = freeCount - 1;
    i32[TOP] = top + len;
    i32[LIVE_BYTES] = (i32[LIVE_BYTES] as number) + len;
    i32[SEQ] = ((i32[SEQ] as number) + 1) | 0;
    i32[this.#heap + count] = place;
    this.#siftUp(count);
    Atomics.store(i32, COUNT, count + 1);
    Atomics.store(i32, OP, 0);
    return true;
  }

  remove(): unknown {
    this.#lock.lock();
    const count = this.#i32[COUNT] as number;
    if (count === 0) {
      const closed = Atomics.load(this.#header, CLOSED) === 1;
      this.#lock.unlock();
      return closed ? CLOSED_MARK : NOT_YET;
    }
    const { tag, value } = this.#remove(count);
    this.#lock.unlock();
    if (tag === T_NUMBER) return value;
    if (tag < T_STRING) return tagValue(tag);
    return tag < T_PLAIN ? value : decodePayload(tag, value as string | Uint8Array);
  }

  drained(): boolean {
    return Atomics.load(this.#header, CLOSED) === 1 && Atomics.load(this.#i32, COUNT) === 0;
  }

  close(): boolean {
    this.#lock.lock();
    const was = Atomics.exchange(this.#header, CLOSED, 1);
    this.#lock.unlock();
    return was === 1;
  }

  dropAll(): number {
    this.#lock.lock();
    const i32 = this.#i32;
    const n = i32[COUNT] as number;
    for (let i = 0; i < n; i++) Atomics.store(i32, this.#e(i32[this.#heap + i] as number) + E_STATE, 0);
    this.#rebuild();
    this.#lock.unlock();
    return n;
  }

  /** Takes the first of `count` items in taking order: its tag, and its number or payload. */
  #remove(count: number): { tag: number; value: number | string | Uint8Array } {
    const i32 = this.#i32;
    const place = i32[this.#heap] as number;
    const e = this.#e(place);
    const tag = (i32[e + E_STATE] as number) - 1;
    const len = i32[e + E_LEN] as number;
    let value: number | string | Uint8Array;
    if (tag === T_NUMBER) value = this.#f64[(e >> 1) + 1] as number;
    else if (len === 0) value = 0;
    else {
      const half = i32[HALF] as number;
      value = readPayload(this.#halves[half as 0 | 1], i32[e + E_OFF + half] as number, len, tag);
    }
    Atomics.store(i32, OP, -(place + 1));
    Atomics.store(i32, e + E_STATE, 0); // the commit point
    const last = count - 1;
    i32[this.#heap] = i32[this.#heap + last] as number;
    if (last > 0) this.#siftDown(0, last);
    i32[this.#free + (i32[FREE_COUNT] as number)] = place;
    i32[FREE_COUNT] = (i32[FREE_COUNT] as number) + 1;
    i32[LIVE_BYTES] = (i32[LIVE_BYTES] as number) - len;
    Atomics.store(i32, COUNT, last);
    Atomics.store(i32, OP, 0);
    return { tag, value };
  }

  /** Copies the live payloads to the other half, back to back, then makes it the live one. */
  #compact(): void {
    const i32 = this.#i32;
    const half = i32[HALF] as 0 | 1;
    const other = (1 - half) as 0 | 1;
    const from = this.#halves[half];
    const to = this.#halves[other];
    let top = 0;
    const count = i32[COUNT] as number;
    for (let i = 0; i < count; i++) {
      const e = this.#e(i32[this.#heap + i] as number);
      const len = i32[e + E_LEN] as number;
      if (len === 0) continue;
      const at = i32[e + E_OFF + half] as number;
      from.copy(to, top, at, at + len);
      i32[e + E_OFF + other] = top;
      top += len;
      this.#lock.renew(); // copying a large arena may outlast a waiter's lease
    }
    Atomics.store(i32, HALF, other);
    i32[TOP] = top;
  }

  /** After a holder died: keep its put's count if the put committed, then rebuild. */
  #recover(): void {
    const i32 = this.#i32;
    const op = i32[OP] as number;
    if (op > 0 && (i32[this.#e(op - 1) + E_STATE] as number) !== 0) {
      Atomics.store(this.#header, this.#puts, i32[OP_PUTS] as number);
    }
    this.#rebuild();
  }

  /** Derives the heap, the free stack and the counters from the entries. */
  #rebuild(): void {
    const i32 = this.#i32;
    const half = i32[HALF] as number;
    let count = 0;
    let free = 0;
    let live = 0;
    let top = 0;
    let seq = i32[SEQ] as number;
    for (let place = this.#capacity - 1; place >= 0; place--) {
      const e = this.#e(place);
      if (i32[e + E_STATE] === 0) {
        i32[this.#free + free++] = place;
        continue;
      }
      i32[this.#heap + count++] = place;
      const len = i32[e + E_LEN] as number;
      live += len;
      if (len > 0) top = Math.max(top, (i32[e + E_OFF + half] as number) + len);
      const next = ((i32[e + E_SEQ] as number) + 1) | 0;
      if (((next - seq) | 0) > 0) seq = next;
    }
    for (let at = (count >> 1) - 1; at >= 0; at--) this.#siftDown(at, count);
    i32[FREE_COUNT] = free;
    i32[LIVE_BYTES] = live;
    i32[TOP] = top;
    i32[SEQ] = seq;
    Atomics.store(i32, COUNT, count);
    Atomics.store(i32, OP, 0);
  }
}
