/**
 * Lingering: a pool worker that has just sent its results spins for a moment, watching the wake
 * counter the pool bumps with every frame it sends, before it goes back to sleep in its event
 * loop.
 *
 * Why: when a CPU has nothing to run, a virtual machine halts it, and waking a halted CPU costs
 * 40-80 µs, several times a small task's whole round trip. A worker that is still spinning when
 * the next call arrives reads it at once, synchronously.
 *
 * What keeps it cheap and safe:
 * - bounded: one linger spins at most `budgetMs`, and only when no async call is in progress
 *   (their I/O and timers must run);
 * - the event loop keeps turning: a linger runs in a `setImmediate` callback, and the calls it
 *   picks up run there too, so timers and I/O get their turn between batches;
 * - adaptive: a linger that catches nothing makes the worker skip the next 1, 2, 4 … 64
 *   chances (a catch starts over), so a worker whose calls come seldom ends up asleep in its
 *   event loop as before, having spent one budget per 64 batches at most.
 */
import type { Wake } from '../wire/wake.js';

/** What a linger needs from the connection it serves. */
export interface Lingerer {
  /** Handles the frames that have arrived; returns how many. */
  receivePending(): number;
}

/** The longest back-off, in lingers skipped, after lingers that caught nothing. */
const MAX_SKIP = 64;

export class Linger {
  #conn: Lingerer | undefined = undefined;
  #armed = false;
  /** Chances to skip before the next linger, and how many the next miss makes it. */
  #skip = 0;
  #backoff = 1;

  constructor(
    /** Bumped by the pool after each frame it sends to this worker. */
    readonly wake: Wake,
    /** The longest one linger spins, in milliseconds. */
    readonly budgetMs: number,
    /** Whether a frame from the peer is worth spinning for now. */
    readonly expecting: () => boolean,
  ) {}

  /** Serves calls on `conn` while lingering. */
  attach(conn: Lingerer): void {
    this.#conn = conn;
  }

  /** This worker just sent a frame: linger once the event loop has turned, if worth it. */
  sent(): void {
    if (this.#armed || this.budgetMs <= 0) return;
    if (this.#skip > 0) {
      this.#skip--;
      return;
    }
    this.#armed = true;
    setImmediate(this.#linger);
  }

  readonly #linger = (): void => {
    this.#armed = false;
    const conn = this.#conn;
    if (conn === undefined || !this.expecting()) return;
    const deadline = performance.now() + this.budgetMs;
    let seen = this.wake.read();
    // Read the count before draining: a frame sent after the drain changes it, so none is missed.
    while (conn.receivePending() === 0) {
      while (this.wake.read() === seen) {
        if (performance.now() >= deadline) {
          this.#skip = this.#backoff;
          this.#backoff = Math.min(this.#backoff * 2, MAX_SKIP);
          return;
        }
      }
      seen = this.wake.read();
    }
    this.#backoff = 1; // caught a call: its results go out in this turn's microtasks
  };
}
