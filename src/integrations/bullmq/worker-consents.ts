/**
 * A queue worker's side of start consent (start-consent.ts): the jobs it holds that wait for
 * their producer's word, and the run slots that bound how many of them run at once.
 */
import type { JobStop } from './job-stop.js';
import { RecentIds } from './recent-ids.js';
import { PRODUCER_SILENCE_MS } from './start-consent.js';

interface Waiter {
  readonly producer: string;
  readonly since: number;
  askedAt: number;
  /** For a producer counted gone: the probes sent before this wait began (a later one decides). */
  readonly probesBefore: number;
  readonly resolve: (consentAt: number) => void;
}

/** How long (ms) a taken job waits for its consent before the worker asks on a faster wire, where there is one. */
const FAST_ASK_AFTER_MS = 25;

/** What the consents need of the worker's connections. @internal */
export interface ConsentLinks {
  /** Publishes an ask for these job ids (comma-separated) on the queue's stream. */
  ask(ids: string): Promise<void>;
  /** Publishes probe `n` on the control stream. */
  probe(n: number): Promise<void>;
  /** How long to wait for an answer before asking again (shorter on PostgreSQL, whose event reader can skip events). */
  readonly askAfterMs: number;
  /** Asks `producer` at once for jobs just taken, where a faster wire than the stream exists (pg-consent.ts); it may lose the ask. */
  askNow?(producer: string, ids: string[]): Promise<void>;
}

/** The jobs a worker holds that wait for their producer's consent. @internal */
export class StartConsents {
  readonly #waiting = new Map<string, Waiter>();
  /**
   * Consents that came before their job's wait began, and when. Every worker hears every consent:
   * one for a job not held here is forgotten after ten seconds.
   */
  readonly #early = new RecentIds<number>(10_000);
  /** Producers' last word (Date.now()). */
  readonly #heard = new Map<string, number>();
  /** Producers that said bye. */
  readonly #byes = new Set<string>();
  /** Producers counted gone (silent while a job of theirs was held PRODUCER_SILENCE_MS), until heard again. */
  readonly #gone = new Set<string>();
  /** The timer of the next asks on the faster wire (askNow), while one is due. */
  #asking: NodeJS.Timeout | undefined;
  #probesSent = 0;
  #probeSentAt = 0;
  #probeAnswered = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly links: ConsentLinks) {}

  /** Something came from `producer`: it is alive (or, with bye, gone for good). */
  heard(producer: string, bye = false): void {
    if (producer === '') return;
    this.#heard.set(producer, Date.now());
    this.#gone.delete(producer);
    if (bye) {
      this.#byes.add(producer);
      for (const [id, waiter] of this.#waiting) if (waiter.producer === producer) this.#go(id, false);
    }
  }

  /** `producer` consented to these jobs (which also says it is alive). */
  started(producer: string, ids: string): void {
    this.heard(producer);
    const now = Date.now();
    for (const id of ids.split(',')) {
      if (this.#waiting.has(id)) this.#go(id);
      else this.#early.set(id, now, now);
    }
  }

  /**
   * This worker read its own probe `n`: it has read all said before it. The jobs of producers
   * still counted gone, taken before the probe was sent, may start.
   */
  probed(n: number): void {
    this.#probeAnswered = Math.max(this.#probeAnswered, n);
    for (const [id, waiter] of this.#waiting) if (this.#gone.has(waiter.producer) && waiter.probesBefore < n) this.#go(id, false);
    this.#probeIfNeeded();
  }

  /**
   * Resolves once `jobId` may start, with when its consent came (Date.now(); NaN for a producer
   * gone, which said nothing); rejects with the stop's reason if the job is stopped first.
   */
  wait(jobId: string, producer: string, stop: JobStop): Promise<number> {
    const early = this.#early.take(jobId);
    if (early !== undefined) return Promise.resolve(early);
    if (this.#byes.has(producer)) return Promise.resolve(Number.NaN);
    return new Promise<number>((resolve, reject) => {
      const unhook = stop.onStop((reason) => {
        this.#waiting.delete(jobId);
        reject(reason);
      });
      if (stop.stopped) return;
      const now = Date.now();
      this.#waiting.set(jobId, {
        producer,
        since: now,
        askedAt: now,
        probesBefore: this.#probesSent,
        resolve: (consentAt) => {
          unhook();
          resolve(consentAt);
        },
      });
      if (this.#gone.has(producer)) this.#probeIfNeeded();
      else this.#askSoon();
      this.#timer ??= setInterval(() => this.#check(), this.links.askAfterMs);
    });
  }

  /**
   * Asks on the faster wire for the jobs that still wait FAST_ASK_AFTER_MS after they were
   * taken: most consents come sooner, from the job's 'active' event (asking every job at once
   * doubled the median wait, 2.3 → 4.5 ms, a query more per take), but an event the reader
   * skipped would leave the job to the stream's ask after `askAfterMs` (3% of jobs waited over 200 ms).
   */
  #askSoon(): void {
    const askNow = this.links.askNow?.bind(this.links);
    if (askNow === undefined || this.#asking !== undefined) return;
    this.#asking = setTimeout(() => {
      this.#asking = undefined;
      const now = Date.now();
      const late = new Map<string, string[]>();
      for (const [id, waiter] of this.#waiting) {
        // (Each job once: the periodic check asks again, on the stream, askAfterMs after this.)
        if (waiter.askedAt !== waiter.since || now - waiter.since < FAST_ASK_AFTER_MS) continue;
        waiter.askedAt = now;
        if (this.#gone.has(waiter.producer)) continue; // (its probe decides)
        const ids = late.get(waiter.producer) ?? [];
        ids.push(id);
        late.set(waiter.producer, ids);
      }
      for (const [producer, ids] of late) void askNow(producer, ids).catch(() => {});
      if ([...this.#waiting.values()].some((waiter) => waiter.askedAt === waiter.since)) this.#askSoon();
    }, FAST_ASK_AFTER_MS);
  }

  /** Lets a waiting job start: on its consent, or (`consented` false) with its producer gone. */
  #go(id: string, consented = true): void {
    const waiter = this.#waiting.get(id);
    if (waiter === undefined) return;
    this.#waiting.delete(id);
    waiter.resolve(consented ? Date.now() : Number.NaN);
  }

  /** Sends a probe when a job of a producer counted gone waits for one (one probe at a time, sent again when lost). */
  #probeIfNeeded(): void {
    const inFlight = this.#probesSent > this.#probeAnswered && Date.now() - this.#probeSentAt < this.links.askAfterMs;
    if (inFlight) return;
    const needed = [...this.#waiting.values()].some((waiter) => this.#gone.has(waiter.producer) && waiter.probesBefore >= this.#probesSent);
    if (!needed) return;
    this.#probeSentAt = Date.now();
    void this.links.probe(++this.#probesSent).catch(() => {});
  }

  /** Asks again for slow answers; counts a long-silent producer gone and runs its jobs. */
  #check(): void {
    const now = Date.now();
    const ask: string[] = [];
    for (const [id, waiter] of this.#waiting) {
      const silentFor = now - Math.max(waiter.since, this.#heard.get(waiter.producer) ?? 0);
      if (silentFor >= PRODUCER_SILENCE_MS) {
        this.#gone.add(waiter.producer);
        this.#go(id, false);
      } else if (now - waiter.askedAt >= this.links.askAfterMs) {
        waiter.askedAt = now;
        ask.push(id);
      }
    }
    if (ask.length > 0) void this.links.ask(ask.join(',')).catch(() => {});
    this.#probeIfNeeded();
    if (this.#waiting.size === 0) this.close();
  }

  close(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#asking);
    this.#timer = undefined;
    this.#asking = undefined;
  }
}

/** The worker's `concurrency`: jobs that may run at once, of those it holds (JobHolding). @internal */
export class RunSlots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#free = size;
  }

  /** Resolves with a slot; rejects with the stop's reason if the job is stopped first. */
  acquire(stop: JobStop): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const take = () => {
        unhook();
        resolve();
      };
      const unhook = stop.onStop((reason) => {
        const at = this.#waiting.indexOf(take);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(reason);
      });
      if (!stop.stopped) this.#waiting.push(take);
    });
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#free++;
  }
}

/** Jobs taken ahead per run slot, at most. */
const AHEAD_PER_SLOT = 3;
/** A worker takes jobs ahead while the consent's trip is this share of a job's run or more … */
const AHEAD_FROM = 0.2;
/** … until it falls under this share. */
const AHEAD_UNTIL = 0.1;

/**
 * How many jobs a worker takes beyond its run slots. A job waits for its producer's consent (a
 * trip through the server: about a millisecond on Redis, a few on PostgreSQL) before it may run;
 * jobs taken ahead hide that wait, so that a pool of short jobs does not idle on it. But a job
 * taken ahead whose consent comes while every slot is busy waits here, held, where another worker
 * of the fleet might have run it at once — for as long as a running job takes. So a worker takes
 * jobs ahead only while the consent's trip would idle a slot for a fifth of a job's run or more
 * (it stops under a tenth), and only as many per slot as runs fit in the trip (three at most):
 * none before it knows, none for jobs much longer than the trip (CPU-bound jobs of 30 ms on
 * Redis, held three ahead, had two workers share 48 of them 20/28).
 *
 * On PostgreSQL how many ahead also follows the queue. A worker that finds the queue empty
 * (BullMQ's `drained`) holds all there is: more room ahead only costs a claim that finds nothing
 * after each job that comes (three queries, half a millisecond of the server's time; measured,
 * 0.3-0.6 such claims per job with 64 jobs in flight for one worker of 8 slots), and it takes
 * jobs one by one as they come instead of with the last one's completion. So it halves what it
 * takes ahead (down to one) each time it finds the queue empty, and takes one more after every
 * `slots` jobs finished while it held all it may — a queue with more than it holds.
 * @internal
 */
export class JobHolding {
  #runMs: number | undefined;
  #consentMs: number | undefined;
  #state: 'one-per-slot' | 'ahead' = 'one-per-slot';
  /** Jobs held beyond the slots: what the wait calls for, within what the queue has (#queueHas). */
  #ahead = 0;
  /** How many ahead the queue has had for this worker: halved when it is found empty, grown while it is not. */
  #queueHas: number;
  /** Jobs finished while full, towards the next one the queue may have. */
  #fullRuns = 0;

  constructor(
    readonly slots: number,
    /** Sets how many jobs the worker holds (BullMQ's concurrency). */
    private readonly hold: (jobs: number) => void,
    /** The worker's `takeAhead` option: false holds one job per slot, always. */
    private readonly takeAhead = true,
    /**
     * Whether to hold fewer ahead when the queue is found empty: where a claim that finds nothing
     * costs the server (PostgreSQL). On Redis it is one script, cheaper than the jobs it would
     * cost to hold fewer: halving there held 10-18 jobs for 8 slots instead of 32, and ran
     * 2,150-2,570 no-op jobs/s against 2,500-3,000 (alternating scratch runs).
     */
    private readonly followQueue = true,
  ) {
    this.#queueHas = slots * AHEAD_PER_SLOT;
  }

  /** Jobs to hold before anything is measured: one per slot, none ahead. */
  get initial(): number {
    return this.slots;
  }

  /** Jobs the worker may hold now. */
  get holding(): number {
    return this.slots + this.#ahead;
  }

  /**
   * A job's consent came `consentMs` after it was taken (NaN: none came) and it held its run slot `runMs`; `full`:
   * the worker held all it may as it finished. (From when it was taken, not from when its wait
   * began: a job held ahead finds its consent come already, and a wait measured so would read
   * near nothing while jobs are held ahead — and stop taking them, measured: holding 8 to 32 by turns.)
   */
  ran(runMs: number, consentMs: number, full: boolean): void {
    if (!this.takeAhead) return;
    const average = (mean: number | undefined, sample: number) => (mean === undefined ? sample : mean + 0.2 * (sample - mean));
    this.#runMs = average(this.#runMs, runMs);
    // (NaN: no consent came — its producer was counted gone — so no trip to time.)
    if (!Number.isNaN(consentMs)) this.#consentMs = average(this.#consentMs, Math.max(0, consentMs));
    const share = (this.#consentMs ?? 0) / Math.max(this.#runMs, 0.01);
    this.#state = share >= (this.#state === 'ahead' ? AHEAD_UNTIL : AHEAD_FROM) ? 'ahead' : 'one-per-slot';
    if (full && this.#queueHas < this.slots * AHEAD_PER_SLOT && ++this.#fullRuns >= this.slots) {
      this.#queueHas++;
      this.#fullRuns = 0;
    }
    this.#update(share);
  }

  /** BullMQ found the queue empty (a claim that found nothing). */
  drained(): void {
    if (!this.followQueue || this.#state !== 'ahead') return; // (holding one per slot, it says nothing of jobs ahead)
    this.#queueHas = Math.max(1, Math.min(this.#queueHas, this.#ahead) >> 1);
    this.#fullRuns = 0;
    this.#update((this.#consentMs ?? 0) / Math.max(this.#runMs ?? 0, 0.01));
  }

  /** Holds as many ahead as runs fit in the wait (three per slot at most), within what the queue has. */
  #update(share: number): void {
    const ahead = this.#state === 'ahead' ? Math.min(this.slots * Math.min(AHEAD_PER_SLOT, Math.ceil(share)), this.#queueHas) : 0;
    if (ahead === this.#ahead) return;
    this.#ahead = ahead;
    this.hold(this.holding);
  }
}
