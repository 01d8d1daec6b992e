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
 * - it never starves the thread that feeds the workers: at most one worker per core but one, over
 *   all the pools of the process, lingers at a time (it must take one of that many places in
 *   shared memory), so on two cores one does;
 * - bounded: one linger spins at most `budgetMs`, and only when no async call is in progress
 *   (their I/O and timers must run);
 * - the event loop keeps turning: a linger runs in a `setImmediate` callback, and the calls it
 *   picks up run there too, so timers and I/O get their turn between batches;
 * - adaptive: a linger that catches nothing makes the worker skip the next 1, 2, 4 … 64
 *   chances (a catch starts over), so a worker whose calls come seldom ends up asleep in its
 *   event loop as before, having spent one budget per 64 batches at most.
 */
import type { LingerSettings } from '../wire/protocol.js';
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
  readonly #budgetMs: number;
  /** The places lingering workers of the process hold (see LingerSettings), and our mark. */
  readonly #places: Int32Array;
  readonly #token: number;

  constructor(
    /** Bumped by the pool after each frame it sends to this worker. */
    readonly wake: Wake,
    settings: LingerSettings,
    /** Whether a frame from the peer is worth spinning for now. */
    readonly expecting: () => boolean,
  ) {
    this.#budgetMs = settings.budgetMs;
    this.#places = new Int32Array(settings.places);
    this.#token = settings.token;
  }

  /** Serves calls on `conn` while lingering. */
  attach(conn: Lingerer): void {
    this.#conn = conn;
  }

  /** This worker just sent a frame: linger once the event loop has turned, if worth it. */
  sent(): void {
    if (this.#armed || this.#places.length === 0) return;
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
    // Read the count before draining: a frame sent after the drain changes it, so none is missed.
    const seen = this.wake.read();
    if (conn.receivePending() > 0) return;
    const place = this.#enter();
    if (place < 0) return;
    let caught: boolean;
    try {
      caught = this.#spin(seen); // no task runs while the place is held
    } finally {
      Atomics.store(this.#places, place, 0);
    }
    if (caught) {
      this.#backoff = 1;
      conn.receivePending(); // the calls run now; their results go out in this turn's microtasks
    } else {
      this.#skip = this.#backoff;
      this.#backoff = Math.min(this.#backoff * 2, MAX_SKIP);
    }
  };

  /** Spins until the peer bumps the wake count past `seen` (true) or the budget is spent. */
  #spin(seen: number): boolean {
    const deadline = performance.now() + this.#budgetMs;
    while (this.wake.read() === seen) {
      if (performance.now() >= deadline) return false;
    }
    return true;
  }

  /** Takes a free place among the lingering workers of the process; -1 if none is free. */
  #enter(): number {
    for (let i = 0; i < this.#places.length; i++) {
      if (Atomics.compareExchange(this.#places, i, 0, this.#token) === 0) return i;
    }
    return -1;
  }
}

