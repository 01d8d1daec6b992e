/**
 * The header of a ThreadQueue's SharedArrayBuffer, and what the queue asks of its storage.
 *
 * The header is in groups 128 bytes apart (a cache line and its prefetch buddy), so threads that
 * write different groups do not fight over cache lines:
 *   config     capacity, byte capacity, max item bytes, closed, order
 *   producers  the FIFO ring's producer side (queue-ring.ts), and the count of puts
 *   consumers  the FIFO ring's consumer side
 *   getters    wake word, waiter count, fairness gate
 *   putters    wake word, waiter count, fairness gate
 *   join       taskDone() count, wake word, waiter count
 * The storage follows: the FIFO ring (queue-ring.ts), or for LIFO and priority queues the
 * ordered store (ordered-store.ts).
 */
import type { NotYet } from './wait.js';

export const GROUP = 32; // Int32 words per group: 128 bytes
// config
export const CAPACITY = 0;
export const BYTE_CAPACITY = 1;
export const MAX_ITEM_BYTES = 2;
export const CLOSED = 3;
export const ORDER = 4; // an index into ORDERS
// producers (the ring uses the first words of the group)
export const PRODUCERS = GROUP;
/** Items ever put (wrapping): unfinished tasks = PUTS - DONES. Written only by a putter holding the lock. */
export const PUTS = GROUP + 24;
// consumers
export const CONSUMERS = 2 * GROUP;
// waiters
export const GET_WAKE = 3 * GROUP;
export const GET_WAITERS = 3 * GROUP + 1;
export const GET_GATE = 3 * GROUP + 2;
export const PUT_WAKE = 4 * GROUP;
export const PUT_WAITERS = 4 * GROUP + 1;
export const PUT_GATE = 4 * GROUP + 2;
// join
export const DONES = 5 * GROUP; // taskDone() calls (wrapping)
export const JOIN_WAKE = 5 * GROUP + 1;
export const JOIN_WAITERS = 5 * GROUP + 2;
export const HEADER_BYTES = 6 * GROUP * 4;

/** The taking orders, by their index in the ORDER word. */
export const ORDERS = ['fifo', 'lifo', 'priority'] as const;
export type QueueOrder = (typeof ORDERS)[number];

/** What a take returns once the queue is closed and holds nothing. */
export const CLOSED_MARK: unique symbol = Symbol('threadloop.queueClosed');
export type Closed = typeof CLOSED_MARK;

/**
 * A queue's storage. It takes the encoded item from `enc` (queue-codec.ts), holds its own locks,
 * and survives a thread killed inside any of these calls.
 */
export interface QueueStore {
  /** Items held right now (a snapshot). */
  readonly size: number;
  /** Puts `enc` with `priority`; false when there is no room. Throws QueueClosedError once closed. */
  insert(priority: number): boolean;
  /** Takes the next item, decoded; NOT_YET when empty, CLOSED_MARK when closed and empty. */
  remove(): unknown;
  /** Whether the queue is closed and holds nothing. */
  drained(): boolean;
  /** Sets CLOSED where no put can land after it; returns whether it was set already. */
  close(): boolean;
  /** Drops every item of a closed queue; returns how many. */
  dropAll(): number;
}

/** A removal's result other than an item. */
export type NoItem = NotYet | Closed;
