/**
 * The options of a ThreadQueue, and the SharedArrayBuffer they make: validated where they are
 * given, sized for the storage the order needs.
 */
import {
  BYTE_CAPACITY,
  CAPACITY,
  HEADER_BYTES,
  MAX_ITEM_BYTES,
  ORDER,
  ORDERS,
  type QueueOrder,
} from './queue-layout.js';
import { refuseUnknownOptions } from '../wire/checks.js';
import { orderedStoreBytes } from './ordered-store.js';
import { ringBytes } from './queue-ring.js';

const MAX_CAPACITY = 1 << 24;
const MAX_BYTES = 0x7fff_0000;
const DEFAULT_CAPACITY = 1024;
const DEFAULT_MAX_ITEM_BYTES = 64 * 1024;
const DEFAULT_BYTES_PER_SLOT = 256;
const DEFAULT_BYTE_CAP = 64 * 1024 * 1024;

/** Options of `new ThreadQueue()`. */
export interface ThreadQueueOptions {
  /**
   * Which item a get takes: `'fifo'` the oldest (`queue.Queue`, the default), `'lifo'` the newest
   * (`queue.LifoQueue`), `'priority'` the one put with the lowest `priority`, the oldest of equals
   * (`queue.PriorityQueue`). Every order keeps every other guarantee of the queue.
   */
  order?: QueueOrder | undefined;
  /** Most items the queue holds; a put waits while it is full. Default 1024, max 2^24. */
  capacity?: number | undefined;
  /**
   * Largest encoded item, in bytes (UTF-8 for strings, v8 serialization for objects; numbers,
   * booleans, null and undefined take none). A larger item is refused with a RangeError.
   * Default 64 KiB.
   */
  maxItemBytes?: number | undefined;
  /**
   * Size of the shared byte ring holding encoded items; a put also waits while the ring cannot
   * take its item. At least `maxItemBytes`, so any allowed item fits once the queue drains.
   * Default: max(maxItemBytes, min(capacity × 256, 64 MiB)).
   */
  byteCapacity?: number | undefined;
}

/** Result of `tryGet`. */
export type TryGetResult<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      /** True when the queue is closed and drained: nothing will ever come. */
      closed: boolean;
    };

function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new TypeError(`ThreadQueue: ${name} must be an integer (got ${String(v)})`);
  }
  if (v < min || v > max) {
    throw new RangeError(`ThreadQueue: ${name} must be from ${min} to ${max} (got ${v})`);
  }
  return v;
}

/** Total bytes of a queue's SharedArrayBuffer. */
export function totalBytes(capacity: number, byteCapacity: number, order: number): number {
  return HEADER_BYTES + (order === 0 ? ringBytes(capacity, byteCapacity) : orderedStoreBytes(capacity, byteCapacity));
}

/** Options of a put: the item's priority, for a queue with `order: 'priority'`. */
export interface PutOptions {
  /** Lower comes out first; equal priorities come out in the order they were put. Default 0. */
  priority?: number | undefined;
}

/**
 * A new queue's SharedArrayBuffer, its config words written, from options checked here.
 *
 * @example
 * ```ts
 * const sab = newQueueBuffer({ capacity: 100, order: 'lifo' });
 * ```
 */
const QUEUE_OPTIONS = new Set(['order', 'capacity', 'maxItemBytes', 'byteCapacity']);

export function newQueueBuffer(options: ThreadQueueOptions): SharedArrayBuffer {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('ThreadQueue: options must be an object');
  }
  refuseUnknownOptions('ThreadQueue', options, QUEUE_OPTIONS);
  const capacity = checkInt('capacity', options.capacity ?? DEFAULT_CAPACITY, 1, MAX_CAPACITY);
  const maxItemBytes = checkInt('maxItemBytes', options.maxItemBytes ?? DEFAULT_MAX_ITEM_BYTES, 1, MAX_BYTES);
  const byteCapacity = checkInt(
    'byteCapacity',
    options.byteCapacity ?? Math.max(maxItemBytes, Math.min(capacity * DEFAULT_BYTES_PER_SLOT, DEFAULT_BYTE_CAP)),
    maxItemBytes,
    MAX_BYTES,
  );
  const order = ORDERS.indexOf(options.order ?? 'fifo');
  if (order < 0) {
    throw new TypeError(`ThreadQueue: order must be 'fifo', 'lifo' or 'priority' (got ${String(options.order)})`);
  }
  const sab = new SharedArrayBuffer(totalBytes(capacity, byteCapacity, order));
  const h = new Int32Array(sab, 0, HEADER_BYTES / 4);
  h[CAPACITY] = capacity;
  h[BYTE_CAPACITY] = byteCapacity;
  h[MAX_ITEM_BYTES] = maxItemBytes;
  h[ORDER] = order;
  return sab;
}

/** Whether `state` is the SharedArrayBuffer of a ThreadQueue (as far as its size tells). */
export function isQueueBuffer(state: unknown): state is SharedArrayBuffer {
  if (!(state instanceof SharedArrayBuffer) || state.byteLength < HEADER_BYTES) return false;
  const h = new Int32Array(state, 0, HEADER_BYTES / 4);
  const cap = h[CAPACITY] as number;
  const bcap = h[BYTE_CAPACITY] as number;
  const order = h[ORDER] as number;
  return cap >= 1 && bcap >= 1 && order in ORDERS && totalBytes(cap, bcap, order) === state.byteLength;
}
