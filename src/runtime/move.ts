/**
 * `move()`: a task's result (or part of it) transferred back instead of copied.
 */
import { brand } from '../wire/thread-state.js';
import type { Transferable } from '../wire/transferable.js';

/** Marks a Moved for every copy of threadloop in the thread: task code may use another copy's `move`. */
const MOVED = brand('moved');

/** A value a task returns together with the buffers to move (not copy) back. @internal */
export class Moved<T> {
  constructor(
    readonly value: T,
    readonly transfer: readonly Transferable[],
  ) {}

  /** Recognizes a Moved made by any copy of threadloop in this thread. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [MOVED]?: true })[MOVED] === true;
  }
}
Object.defineProperty(Moved.prototype, MOVED, { value: true });

/**
 * Marks a task's result (or part of it) to be transferred instead of copied.
 *
 * @example
 * export function render(w, h) {
 *   const pixels = new Uint8Array(w * h * 4);
 *   return move(pixels, [pixels.buffer]);
 * }
 */
export function move<T>(value: T, transfer: readonly Transferable[] = defaultTransfer(value)): T {
  return new Moved(value, transfer) as unknown as T;
}

function defaultTransfer(value: unknown): Transferable[] {
  if (value instanceof ArrayBuffer) return [value];
  if (ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer) return [value.buffer];
  return [];
}
