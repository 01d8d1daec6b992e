/**
 * The storage of a FIFO ThreadQueue: a ring with a producer side and a consumer side that share
 * as little as possible. On this kind of machine every cache line that moves between cores costs
 * more than the whole put or get, so the layout is built to move few of them.
 *
 * - Producers take the producer lock and own the tail; consumers take the consumer lock and own
 *   the head. With one producer and one consumer each lock stays in its own core's cache.
 * - Each side keeps its last view of the other side's index on its own cache line and reads the
 *   real one only when the ring looks full (producers) or empty (consumers): a side that runs
 *   behind then takes a whole batch per look instead of a cache miss per item.
 * - An item is one 8-byte slot — a float64, or a NaN-boxed tag and payload length — so eight
 *   items share a cache line. Payloads (strings, plain data, v8-serialized values; see
 *   queue-codec.ts) go back to back into a byte ring, FIFO like the items, so a payload always
 *   starts where the previous one ended and slots need no offsets.
 *
 * Words (queue-layout.ts has the groups): the producer group holds its lock, tail, cached head,
 * byte write position and total, cached byte read total and a commit record; the consumer group
 * its lock, head, cached tail, byte read position and total and a commit record. After the
 * header come the slots (8 bytes per item), then the byte ring. Indices run from 0 to
 * 2 × capacity (so a full ring differs from an empty one); byte totals are running sums modulo
 * 2^32. Encoding and decoding happen outside the locks, which are held only to copy bytes.
 *
 * A thread can die holding a side lock (see side-lock.ts); the thread that takes the lock over
 * must find the side as it was before the dead operation or as it would be after it, never half
 * way. A put publishes its tail, byte position and put count through a commit record — the new
 * values, then the tail + 1 in the record's ARM word, the commit point — before it stores them,
 * and clears ARM after; a get that moves a byte position does the same, one that moves only its
 * head publishes it with one store. The taker finishes an armed record (the item is put, or
 * taken) and otherwise finds nothing published (a put that never happened, an item still in the
 * queue). So a thread killed inside `put` has put its item or not, and one killed inside `get`
 * has taken its item (gone with the thread) or left it for the next getter; nothing is
 * duplicated, and no other item is lost.
 */
import { Buffer } from 'node:buffer';
import { QueueClosedError } from '../wire/errors.js';
import { CLOSED, CLOSED_MARK, CONSUMERS, HEADER_BYTES, PRODUCERS, PUTS, type QueueStore } from './queue-layout.js';
import { clearEncoded, decodePayload, enc, readPayload, tagValue, T_NUMBER, T_PLAIN, T_STRING, writePayload } from './queue-codec.js';
import { SIDE_LOCK_WORDS, SideLock } from './side-lock.js';
import { NOT_YET } from './wait.js';

// producers
const P_LOCK = PRODUCERS;
const TAIL = P_LOCK + SIDE_LOCK_WORDS;
const P_HEAD = TAIL + 1;
const WPOS = TAIL + 2;
const WTOTAL = TAIL + 3;
const P_RTOTAL = TAIL + 4;
const P_ARM = TAIL + 5; // commit record: 0, or the tail being published + 1
const P_WPOS = TAIL + 6; // ... and the byte position, byte total and put count it comes with
const P_WTOTAL = TAIL + 7;
const P_PUTS = TAIL + 8;
// consumers
const C_LOCK = CONSUMERS;
const HEAD = C_LOCK + SIDE_LOCK_WORDS;
const C_TAIL = HEAD + 1;
const RPOS = HEAD + 2;
const RTOTAL = HEAD + 3;
const C_ARM = HEAD + 4; // commit record: 0, or the head being published + 1
const C_RPOS = HEAD + 5;
const C_RTOTAL = HEAD + 6;

// A slot holding no number holds a NaN whose high word is BOX | tag and whose low word is the
// payload length. No number is stored with that high word: NaN items are boxed by tag too.
const BOX = -0x10000;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = 1 - HI;

/** Bytes of the slots and byte ring after the header. */
export function ringBytes(capacity: number, byteCapacity: number): number {
  return capacity * 8 + byteCapacity;
}

/**
 * The FIFO ring of a queue over `sab`, whose header is `i32`.
 *
 * @example
 * ```ts
 * const ring = new QueueRing(sab, header, { published: wakeGetters, freed: wakePutters });
 * if (ring.insert(0)) wakeGetters();
 * ```
 */
export class QueueRing implements QueueStore {
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  /** The slots again, as (low, high) word pairs. */
  readonly #words: Int32Array;
  readonly #bytes: Buffer;
  readonly #capacity: number;
  /** Indices wrap here: twice the capacity. */
  readonly #span: number;
  readonly #byteCapacity: number;
  readonly #putLock: SideLock;
  readonly #getLock: SideLock;
  readonly #published: () => void;
  readonly #freed: () => void;

  /**
   * @param wakes `published` wakes getters and `freed` putters, after a thread that took a lock
   *   over from a dead holder finished the holder's put or get.
   */
  constructor(
    sab: SharedArrayBuffer,
    i32: Int32Array,
    capacity: number,
    byteCapacity: number,
    wakes: { published: () => void; freed: () => void },
  ) {
    this.#i32 = i32;
    this.#capacity = capacity;
    this.#span = 2 * capacity;
    this.#byteCapacity = byteCapacity;
    this.#f64 = new Float64Array(sab, HEADER_BYTES, capacity);
    this.#words = new Int32Array(sab, HEADER_BYTES, 2 * capacity);
    this.#bytes = Buffer.from(sab, HEADER_BYTES + capacity * 8, byteCapacity);
    this.#published = wakes.published;
    this.#freed = wakes.freed;
    this.#putLock = new SideLock(i32, P_LOCK, () => this.#finishPut());
    this.#getLock = new SideLock(i32, C_LOCK, () => this.#finishGet());
  }

  get size(): number {
    // Head first: the tail only grows after it, so the difference is never negative.
    const head = Atomics.load(this.#i32, HEAD);
    const n = this.#count(Atomics.load(this.#i32, TAIL), head);
    return n > this.#capacity ? this.#capacity : n;
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
    this.#published();
  }

  #finishGet(): void {
    const i32 = this.#i32;
    const arm = i32[C_ARM] as number;
    if (arm === 0) return;
    i32[RPOS] = i32[C_RPOS] as number;
    Atomics.store(i32, RTOTAL, i32[C_RTOTAL] as number);
    Atomics.store(i32, HEAD, arm - 1);
    Atomics.store(i32, C_ARM, 0);
    this.#freed();
  }

  // ---- producer side ----

  insert(): boolean {
    const i32 = this.#i32;
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

  close(): boolean {
    this.#putLock.lock();
    const was = Atomics.exchange(this.#i32, CLOSED, 1);
    this.#putLock.unlock();
    return was === 1;
  }

  // ---- consumer side ----

  remove(): unknown {
    const i32 = this.#i32;
    const lock = this.#getLock;
    lock.lock();
    const head = i32[HEAD] as number;
    if (head === i32[C_TAIL] && !this.#refreshTail(head)) {
      const closed = this.drained();
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
    return tag < T_PLAIN ? value : decodePayload(tag, value as string | Uint8Array);
  }

  /** Reloads the producers' tail into the consumers' cache; false when the ring is still empty. */
  #refreshTail(head: number): boolean {
    const tail = Atomics.load(this.#i32, TAIL);
    this.#i32[C_TAIL] = tail;
    return tail !== head;
  }

  drained(): boolean {
    const i32 = this.#i32;
    if (Atomics.load(i32, CLOSED) === 0) return false;
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
    this.#commitRead(rpos, ((i32[RTOTAL] as number) + len) | 0, next);
    return payload;
  }

  /**
   * Moves the read side to (`rpos`, `rtotal`, `head`) through a commit record, so whoever takes
   * the lock over from a thread that dies halfway finishes the move.
   */
  #commitRead(rpos: number, rtotal: number, head: number): void {
    const i32 = this.#i32;
    i32[C_RPOS] = rpos;
    i32[C_RTOTAL] = rtotal;
    Atomics.store(i32, C_ARM, head + 1);
    i32[RPOS] = rpos;
    Atomics.store(i32, RTOTAL, rtotal);
    Atomics.store(i32, HEAD, head);
    Atomics.store(i32, C_ARM, 0);
  }

  dropAll(): number {
    const i32 = this.#i32;
    const lock = this.#getLock;
    lock.lock();
    const head = i32[HEAD] as number;
    const tail = Atomics.load(i32, TAIL);
    const n = this.#count(tail, head);
    if (n > 0) this.#commitRead(Atomics.load(i32, WPOS), Atomics.load(i32, WTOTAL), tail);
    lock.unlock();
    return n;
  }
}
