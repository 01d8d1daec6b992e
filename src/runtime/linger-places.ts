/**
 * The cores the workers of this process may use, shared by every pool of the process so that
 * lingering (linger.ts) never takes a core from a worker with work to do:
 *
 *     [0]              P, the number of places: one per core but one (the main thread keeps one)
 *     [1 … P]          places: a lingering worker holds one while it spins
 *     [P+1 … 2P+1]     busy marks: a worker holds one while it runs tasks (one per core; when
 *                      all are taken, every core is busy anyway)
 *
 * A cell is 0 when free, else the token of the worker holding it. A lingering worker stops
 * spinning as soon as spinners and busy workers together would need more than the P cores.
 */
import { availableParallelism } from 'node:os';
import type { LingerSettings } from '../wire/protocol.js';

/** The cells of this process (made at the first pool's first worker) and the last token. */
let cells: Int32Array | undefined;
let lingerTokens = 0;

/** A new worker's linger settings: spin up to `budgetMs`, within the process's places. */
export function lingerSettings(budgetMs: number): LingerSettings {
  if (cells === undefined) {
    const places = Math.max(0, availableParallelism() - 1);
    cells = new Int32Array(new SharedArrayBuffer(4 * (2 + 2 * places)));
    cells[0] = places;
  }
  return { budgetMs, places: cells.buffer as SharedArrayBuffer, token: ++lingerTokens };
}

/** Frees what a worker that died still holds (its own `finally` did not run). */
export function releaseLingerPlace(token: number): void {
  if (cells === undefined) return;
  for (let i = 1; i < cells.length; i++) Atomics.compareExchange(cells, i, token, 0);
}

/** A worker's view of the cells (see the module doc). */
export class Cores {
  readonly #cells: Int32Array;
  readonly #places: number;
  /** The busy mark this worker holds, or -1. */
  #busyAt = -1;

  constructor(
    buffer: SharedArrayBuffer,
    readonly token: number,
  ) {
    this.#cells = new Int32Array(buffer);
    this.#places = this.#cells[0]!;
  }

  /** Whether any worker may linger here at all (more than one core). */
  get lingering(): boolean {
    return this.#places > 0;
  }

  /** Takes a free place to spin in; its index, or -1 if none is free. */
  enter(): number {
    for (let i = 1; i <= this.#places; i++) {
      if (Atomics.compareExchange(this.#cells, i, 0, this.token) === 0) return i;
    }
    return -1;
  }

  /** Gives a place back. */
  leave(place: number): void {
    Atomics.store(this.#cells, place, 0);
  }

  /** This worker runs tasks (`true`), or no longer does. */
  busy(on: boolean): void {
    if (on) {
      if (this.#busyAt >= 0) return;
      for (let i = this.#places + 1; i < this.#cells.length; i++) {
        if (Atomics.compareExchange(this.#cells, i, 0, this.token) === 0) {
          this.#busyAt = i;
          return;
        }
      }
    } else if (this.#busyAt >= 0) {
      Atomics.store(this.#cells, this.#busyAt, 0);
      this.#busyAt = -1;
    }
  }

  /** Whether spinners and busy workers together need more cores than the places. */
  crowded(): boolean {
    let taken = 0;
    for (let i = 1; i < this.#cells.length; i++) if (Atomics.load(this.#cells, i) !== 0) taken++;
    return taken > this.#places;
  }
}
