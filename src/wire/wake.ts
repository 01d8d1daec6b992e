/**
 * A wake-up counter in shared memory. The side that sends a frame bumps it; a thread blocked in
 * `resultSync` sleeps on it with `Atomics.wait` and, when woken, reads the frames synchronously.
 * Reading the count *before* draining and waiting only while it is unchanged means no bump is
 * ever missed.
 */
export class Wake {
  readonly cell: Int32Array;

  // cell[0] counts frames sent; cell[1] is 0 while the sender lives, its exit code + 1 after;
  // cell[2] is 1 once the sender's runtime has started.
  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(12)) {
    this.cell = new Int32Array(buffer);
  }

  get buffer(): SharedArrayBuffer {
    return this.cell.buffer as SharedArrayBuffer;
  }

  /** Something was sent: wake whoever waits. */
  bump(): void {
    Atomics.add(this.cell, 0, 1);
    Atomics.notify(this.cell, 0);
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
   * Spins until the count is no longer `seen` (true) or the clock (`performance.now()`) reaches
   * `until` (false). Cheaper than `sleep` when the answer is microseconds away: a thread woken
   * from `Atomics.wait` on an idle virtual CPU may take tens of microseconds to run again.
   */
  spin(seen: number, until: number): boolean {
    for (let i = 1; ; i++) {
      if (Atomics.load(this.cell, 0) !== seen) return true;
      // The clock costs more than a load: read it once every 16.
      if ((i & 15) === 0 && performance.now() >= until) return false;
    }
  }

  /** Sleeps until the count is no longer `seen`, or `ms` pass (Infinity: no limit). */
  sleep(seen: number, ms: number): void {
    Atomics.wait(this.cell, 0, seen, ms === Infinity ? undefined : Math.max(0, ms));
  }
}

/** Makes a Wake from a buffer sent across, if one was. */
export function wakeFrom(buffer: SharedArrayBuffer | undefined): Wake | undefined {
  return buffer === undefined ? undefined : new Wake(buffer);
}
