/**
 * `move()`: a task's result (or part of it) transferred back instead of copied.
 */
import { brand } from '../wire/thread-state.js';
import type { Transferable } from '../wire/transferable.js';

/**
 * Marks a Moved value for every copy of threadloop in the thread (a loader may load a second
 * one), not by its class.
 */
const MOVED = brand('moved');

/** A value a task returns together with the buffers to move (not copy) back. */
export interface Moved<T> {
  readonly [MOVED]: true;
  readonly value: T;
  readonly transfer: readonly Transferable[];
}

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
  const moved: Moved<T> = { [MOVED]: true, value, transfer };
  return moved as unknown as T;
}

/** Whether a task returned `move(...)`, with any copy of threadloop. @internal */
export function isMoved(value: unknown): value is Moved<unknown> {
  return typeof value === 'object' && value !== null && (value as Partial<Moved<unknown>>)[MOVED] === true;
}

function defaultTransfer(value: unknown): Transferable[] {
  if (value instanceof ArrayBuffer) return [value];
  if (ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer) return [value.buffer];
  return [];
}
