/**
 * The pool's side of lingering (linger.ts): the cells that share the cores among the workers of
 * this process (see Cores in wire/wake.ts), made at the first pool's first worker, and the
 * workers' tokens.
 */
import { availableParallelism } from 'node:os';
import type { LingerSettings } from '../wire/protocol.js';
import { coreCells } from '../wire/wake.js';

/** The cells of this process (made at the first pool's first worker) and the last token. */
let cells: Int32Array | undefined;
let lingerTokens = 0;

/** A new worker's linger settings: spin up to `budgetMs`, within the process's places. */
export function lingerSettings(budgetMs: number): LingerSettings {
  cells ??= coreCells(Math.max(0, availableParallelism() - 1));
  return { budgetMs, places: cells.buffer as SharedArrayBuffer, token: ++lingerTokens };
}

/** Frees what a worker that died still holds (its own `finally` did not run). */
export function releaseLingerPlace(token: number): void {
  if (cells === undefined) return;
  for (let i = 1; i < cells.length; i++) Atomics.compareExchange(cells, i, token, 0);
}

