/**
 * A wake-up counter in shared memory. The side that sends a frame bumps it; a thread blocked in
 * `resultSync` sleeps on it with `Atomics.wait` and, when woken, reads the frames synchronously.
 * Reading the count *before* draining and waiting only while it is unchanged means no bump is
 * ever missed.
 */
export class Wake {
  readonly cell: Int32Array;

  // cell[0] counts frames sent; cell[1] is 0 while the sender lives, its exit code + 1 after;
  // cell[2] is 1 once the sender's runtime has started; cell[3] counts the threads asleep on
  // cell[0] (a bump wakes them only if there are any: Atomics.notify costs, even for nobody).
  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(16)) {
    this.cell = new Int32Array(buffer);
  }

  get buffer(): SharedArrayBuffer {
    return this.cell.buffer as SharedArrayBuffer;
  }

  /** Something was sent: wake whoever waits. */
  bump(): void {
    Atomics.add(this.cell, 0, 1);
    // A sleeper counts itself before it compares the count in Atomics.wait, and this reads the
    // sleepers after the count changed: one of the two sees the other, so no wake-up is lost.
    if (Atomics.load(this.cell, 3) > 0) Atomics.notify(this.cell, 0);
  }

  /** The count now; pass it to `sleep` after checking for work. */
  read(): number {
    return Atomics.load(this.cell, 0);
  }

  /** The sender is exiting with `code`: say so to a thread blocked waiting for it. */
  markExited(code: number): void {
    Atomics.store(this.cell, 1, code + 1);
  }

  /** The sender's runtime is running: from now on, a stopped thread means a dead one. */
  markStarted(): void {
    Atomics.store(this.cell, 2, 1);
  }

  /** Whether the sender's runtime has started. */
  started(): boolean {
    return Atomics.load(this.cell, 2) === 1;
  }

  /** The sender's exit code once it has exited, else undefined. */
  exitCode(): number | undefined {
    const v = Atomics.load(this.cell, 1);
    return v === 0 ? undefined : v - 1;
  }

  /**
   * Spins until the count is no longer `seen` (true), or about `ms` milliseconds have passed or
   * `stop()` says so (false; it is asked every few microseconds). Cheaper than `sleep` when the answer is microseconds away: a thread woken from
   * `Atomics.wait` on an idle virtual CPU may take tens of microseconds to run again.
   */
  spin(seen: number, ms: number, stop?: () => boolean): boolean {
    // The clock costs several loads: read it once every 256, and not at all on a quick catch
    // (the spin then runs a little longer than `ms`, by the loads before the first reading).
    let until = 0;
    for (let i = 1; ; i++) {
      if (Atomics.load(this.cell, 0) !== seen) return true;
      if ((i & 255) === 0) {
        const now = performance.now();
        if (until === 0) until = now + ms;
        else if (now >= until) return false;
        if (stop?.() === true) return false;
      }
    }
  }

  /** Sleeps until the count is no longer `seen`, or `ms` pass (Infinity: no limit). */
  sleep(seen: number, ms: number): void {
    Atomics.add(this.cell, 3, 1);
    try {
      Atomics.wait(this.cell, 0, seen, ms === Infinity ? undefined : Math.max(0, ms));
    } finally {
      Atomics.sub(this.cell, 3, 1);
    }
  }
}

/** The longest back-off, in chances skipped, after spins that caught nothing. */
const MAX_SKIP = 64;

/**
 * When to spin for the other thread rather than sleep at once. Spinning pays only while the
 * other thread runs on another CPU and answers within the spin; where it does not — the two
 * share one CPU, or its work takes longer — a spin only burns the budget (and, on a shared CPU,
 * delays the very answer it waits for). So a spin that catches nothing skips the next 1, 2, 4 …
 * 64 chances; a catch starts over. Where spinning does not pay, it costs one spin in 64.
 */
export class SpinBackoff {
  #skip = 0;
  #backoff = 1;

  /** Whether to spin this time (false: a chance skipped). */
  shouldSpin(): boolean {
    if (this.#skip === 0) return true;
    this.#skip--;
    return false;
  }

  /** What the spin did: caught something (`true`), or spent its budget. */
  spun(caught: boolean): void {
    if (caught) {
      this.#backoff = 1;
    } else {
      this.#skip = this.#backoff;
      this.#backoff = Math.min(this.#backoff * 2, MAX_SKIP);
    }
  }
}

/**
 * The cores the workers of a process may spin on, shared by every pool of the process so that
 * lingering (runtime/linger.ts) never takes a core from a thread with work to do:
 *
 *     [0]              P, the number of places: one per core but one (the main thread keeps one)
 *     [1 … P]          places: a lingering worker holds one while it spins
 *     [P+1 … 2P+1]     busy marks: a worker holds one while it runs tasks (one per core; when
 *                      all are taken, every core is busy anyway)
 *
 * A cell is 0 when free, else the token of the worker holding it. A lingering worker stops
 * spinning as soon as spinners and busy workers together would need more than the P cores.
 */
export function coreCells(places: number): Int32Array {
  const cells = new Int32Array(new SharedArrayBuffer(4 * (2 + 2 * places)));
  cells[0] = places;
  return cells;
}

/** A worker's view of the cells of `coreCells`. */
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

/** Makes a Wake from a buffer sent across, if one was. */
export function wakeFrom(buffer: SharedArrayBuffer | undefined): Wake | undefined {
  return buffer === undefined ? undefined : new Wake(buffer);
}
