/**
 * Lingering: a pool worker that has just sent its results spins for a moment, watching the wake
 * counter the pool bumps with every frame it sends, before it goes back to sleep in its event
 * loop.
 *
 * Why: when a CPU has nothing to run, a virtual machine halts it, and waking a halted CPU costs
 * 40-80 µs, several times a small task's whole round trip. A worker that is still spinning when
 * the next call arrives reads it at once, synchronously — and, since it says it polls, the pool
 * sends that call through shared memory (wire/frame-lane.ts), not the port. A worker that caught
 * a call runs it, sends its result at once and spins again: a sequence of calls (a caller
 * blocked in resultSync, say) costs a shared-memory hand-off each, not an event-loop turn.
 *
 * What keeps it cheap and safe:
 * - it never takes a core from a thread with work to do: at most one worker per core but one,
 *   over all the pools of the process, lingers at a time (it must take one of that many places
 *   in shared memory: the main thread keeps a core), and a lingering worker stops as soon as
 *   workers running tasks need its core (Cores, wire/wake.ts); so on two cores one worker lingers,
 *   and only while no other runs tasks;
 * - bounded: one linger spins at most `budgetMs`, and only when no async call is in progress
 *   (their I/O and timers must run);
 * - the event loop keeps turning: a linger runs in a `setImmediate` callback, the calls it
 *   picks up run there too, and it serves at most SERVE_MS before it lets the loop turn, so
 *   timers and I/O get their turn between batches;
 * - adaptive (SpinBackoff): a linger that catches nothing makes the worker skip the next 1, 2,
 *   4 … 64 chances (a catch starts over), so a worker whose calls come seldom — or that shares
 *   its CPU with the caller, whom its spinning would only hold up — ends up asleep in its event
 *   loop as before, having spent one budget per 64 batches at most. Not while the caller blocks
 *   in resultSync, though: it calls again as soon as it wakes, and a sequence of blocking calls
 *   that fell into sleeping on both sides stayed there for thousands of calls (12-20 µs each
 *   where spinning takes 3-5 on an Intel Xeon VM).
 */
import type { LingerSettings } from '../wire/protocol.js';
import { Cores, SpinBackoff, type Wake } from '../wire/wake.js';

/** What a linger needs from the connection it serves. */
export interface Lingerer {
  /** Handles the frames that have arrived (running the calls among them); returns how many. */
  receivePending(): number;
  /** This thread polls for frames, or stops (the peer may then send through shared memory). */
  poll(on: boolean): void;
  /** Sends what is queued now. */
  flush(): void;
  /** Whether the peer polls now: blocked, waiting for an answer. */
  peerPolls(): boolean;
}

/**
 * How long one linger may go on serving calls it catches before it lets the event loop turn
 * (timers, I/O, and the microtasks of the tasks it ran) — then it lingers again if worth it.
 */
const SERVE_MS = 1;

/**
 * `idle`: in the event loop; `armed`: a linger is due (setImmediate); `armed-polling`: one is
 * due, and this worker polls already (see `sending`); `lingering`: spinning or serving what it
 * caught.
 */
type LingerState = 'idle' | 'armed' | 'armed-polling' | 'lingering';

export class Linger {
  #conn: Lingerer | undefined = undefined;
  #state: LingerState = 'idle';
  /** Whether the next chance to linger is taken (see SpinBackoff). */
  readonly #backoff = new SpinBackoff();
  readonly #budgetMs: number;
  /** The cores the workers of the process share (see Cores). */
  readonly #cores: Cores;
  readonly #crowded = (): boolean => this.#cores.crowded();

  constructor(
    /** Bumped by the pool after each frame it sends to this worker. */
    readonly wake: Wake,
    settings: LingerSettings,
    /** Whether a frame from the peer is worth spinning for now. */
    readonly expecting: () => boolean,
  ) {
    this.#budgetMs = settings.budgetMs;
    this.#cores = new Cores(settings.places, settings.token);
  }

  /** This worker runs tasks it got from its event loop (`true`), or has finished them. */
  busy(on: boolean): void {
    this.#cores.busy(on);
  }

  /** Serves calls on `conn` while lingering. */
  attach(conn: Lingerer): void {
    this.#conn = conn;
  }

  /**
   * This worker is about to send a frame: linger once the event loop has turned, if worth it.
   * To a peer blocked in resultSync it polls from now, before the frame goes out: the peer wakes
   * to that frame and may call again before the linger begins (the wake-up alone costs this
   * thread a system call); polled, that call comes through shared memory, where the linger's
   * first look finds it — through the port it would wait for an event-loop turn here, and the
   * peer would sleep meanwhile, which sets the two taking turns asleep call after call. (Not to
   * a peer that awaits: polling early there cost CPU-bound tasks a third of their speed-up.)
   */
  sending(): void {
    if (this.#state !== 'idle' || !this.#cores.lingering || this.#conn === undefined) return;
    if (!this.#backoff.shouldSpin()) return;
    const early = this.#conn.peerPolls();
    if (early) this.#conn.poll(true);
    this.#state = early ? 'armed-polling' : 'armed';
    setImmediate(this.#linger);
  }

  readonly #linger = (): void => {
    const early = this.#state === 'armed-polling';
    this.#state = 'lingering';
    let again = false;
    try {
      again = this.#serve();
    } finally {
      this.#state = 'idle';
      if (early) this.#conn!.poll(false); // the poll of `sending`
    }
    if (again) this.sending();
  };

  /**
   * Spins for the peer's next frame; when one comes, runs its calls and sends their results at
   * once, and spins again — a sequence of calls (a caller blocked in resultSync, say) then costs
   * the shared-memory hand-off, not an event-loop turn each. Stops when a spin catches nothing,
   * when a call goes async (its promise needs the event loop), or after SERVE_MS. Returns
   * whether to linger again once the event loop has turned.
   */
  #serve(): boolean {
    const conn = this.#conn;
    if (conn === undefined || !this.expecting()) return false;
    const stopAt = performance.now() + SERVE_MS;
    let rounds = 0;
    // Polled all along, not only while spinning: the peer's next call, sent while this one runs
    // or its result goes out, then comes through shared memory too.
    conn.poll(true);
    this.#cores.busy(true); // while it runs what it caught; not while it spins
    try {
      for (;;) {
        // Read the count before draining: a frame sent after the drain changes it, so none is missed.
        const seen = this.wake.read();
        if (conn.receivePending() === 0) {
          const caught = this.#spinInPlace(seen);
          if (caught === undefined) return false; // no place free
          // A peer that polls is blocked in resultSync: its next call missed this spin because its
          // own wake-up outlasted the budget (a halted vCPU), not because none comes — backing off
          // then would leave both threads sleeping, call after call. The price: a caller that
          // computes between blocking calls costs the worker one budget of spinning per call, on
          // a core no busy worker needs (forgiving only 4 or 16 misses in a row, then backing
          // off, let sequences fall asleep again: measured).
          if (caught || !conn.peerPolls()) this.#backoff.spun(caught);
          if (!caught) return false;
          conn.receivePending();
        }
        if (!this.expecting()) return false; // an async call runs: its results go out from the event loop
        conn.flush();
        if ((++rounds & 7) === 0 && performance.now() >= stopAt) return true; // the clock every 8
      }
    } finally {
      this.#cores.busy(false);
      conn.poll(false);
    }
  }

  /**
   * Spins holding a place (no task runs while it is held), until caught, the budget is spent, or
   * busy workers need the core; undefined if no place is free.
   */
  #spinInPlace(seen: number): boolean | undefined {
    const place = this.#cores.enter();
    if (place < 0) return undefined;
    this.#cores.busy(false);
    try {
      return this.wake.spin(seen, this.#budgetMs, this.#crowded);
    } finally {
      this.#cores.leave(place);
      this.#cores.busy(true);
    }
  }
}
