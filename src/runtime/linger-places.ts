/**
 * The pool's side of lingering (see linger.ts): the places lingering workers hold, shared by
 * every pool of this process, so that at most one worker per core but one spins at a time.
 */
import { availableParallelism } from 'node:os';
import type { LingerSettings } from '../wire/protocol.js';

/** The places of this process (made at the first pool's first worker) and the last token. */
let lingerPlaces: Int32Array | undefined;
let lingerTokens = 0;

/** A new worker's linger settings: spin up to `budgetMs`, holding one of the process's places. */
export function lingerSettings(budgetMs: number): LingerSettings {
  lingerPlaces ??= new Int32Array(new SharedArrayBuffer(4 * Math.max(0, availableParallelism() - 1)));
  return { budgetMs, places: lingerPlaces.buffer as SharedArrayBuffer, token: ++lingerTokens };
}

/** Frees the place a worker that died while lingering still holds (its own `finally` did not run). */
export function releaseLingerPlace(token: number): void {
  if (lingerPlaces === undefined) return;
  for (let i = 0; i < lingerPlaces.length; i++) Atomics.compareExchange(lingerPlaces, i, token, 0);
}
