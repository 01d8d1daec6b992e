/**
 * A job starts only with its producer's consent — the queue's counterpart of a pool call's
 * start/withdraw cell. `future.cancel()` answers at once, from what the producer knows; a worker
 * takes a job from the server at any moment, and the producer hears of it an event later. Were
 * the worker to start the task at once, a cancel() in between would return true for a task that
 * then starts. So the producer is the one place that decides: a worker that has taken a job
 * waits for the producer's `threadloop:start` (sent when it sees the job go active, unless its
 * future was cancelled, when it sends `threadloop:cancel` instead), and asks again
 * (`threadloop:ask`) when the answer is slow (an event skipped, a server restart).
 *
 * A producer that is gone cannot answer: a worker that has heard nothing from it for
 * `PRODUCER_SILENCE_MS` runs its jobs anyway, and a producer says `threadloop:bye` when it
 * closes. For that to stay safe, a producer whose last word on the stream is older than half of
 * that refuses to cancel (cancel() returns false): a worker may already have counted it gone.
 */
import type { QueueEventsProducer } from 'bullmq';

/**
 * The stream producers speak on (start, cancel, alive, bye): a queue of its own, so that workers
 * read only these few events, not every job's added/waiting/active/completed. Workers ask on the
 * queue's own stream, which producers read anyway.
 */
export function controlQueue(queue: string): string {
  return `${queue}-threadloop`;
}

/** Worker → producer: "I hold these jobs of yours; may they start?" (`ids`, comma-separated). */
export const ASK_EVENT = 'threadloop:ask';
/** Producer → workers: "these jobs may start" (`ids`, comma-separated). */
export const START_EVENT = 'threadloop:start';
/** Producer → workers: "I am here" (while it has jobs in flight), and "I am gone". */
export const ALIVE_EVENT = 'threadloop:alive';
export const BYE_EVENT = 'threadloop:bye';

/** How long a worker waits on a producer it hears nothing from before running its jobs anyway. */
export const PRODUCER_SILENCE_MS = 10_000;

/** BullMQ's own default length of the event stream (a publish trims it to what it is given). */
export const EVENTS_MAX_LEN = 10_000;

/** The producer of a job id (`<producer>-<n>`), as the QueueExecutor makes them. */
export function producerOf(jobId: string): string {
  const dash = jobId.lastIndexOf('-');
  return dash > 0 ? jobId.slice(0, dash) : '';
}

/** Publishes one of these events on the queue's stream. */
export function publish(producer: QueueEventsProducer, eventName: string, fields: Record<string, string>): Promise<void> {
  return producer.publishEvent({ eventName, ...fields }, EVENTS_MAX_LEN);
}

interface Waiter {
  readonly producer: string;
  readonly since: number;
  askedAt: number;
  readonly resolve: () => void;
}

/** A worker's side: the jobs it holds that wait for their producer's consent. @internal */
export class StartConsents {
  readonly #waiting = new Map<string, Waiter>();
  /** Consents that came before their job's wait began. */
  readonly #early = new Map<string, number>();
  /** Producers' last word (Date.now()); `Infinity` once one said bye. */
  readonly #heard = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  /**
   * @param ask publishes an ask for these job ids
   * @param askAfterMs how long to wait for an answer before asking again (shorter on PostgreSQL,
   *   whose event reader can skip events)
   */
  constructor(
    private readonly ask: (ids: string) => Promise<void>,
    private readonly askAfterMs: number,
  ) {}

  /** Something came from `producer`: it is alive (or, with bye, gone for good). */
  heard(producer: string, bye = false): void {
    if (producer === '') return;
    this.#heard.set(producer, bye ? Infinity : Date.now());
    if (bye) for (const [id, waiter] of this.#waiting) if (waiter.producer === producer) this.#go(id);
  }

  /** The producer consented to these jobs. */
  started(ids: string): void {
    const now = Date.now();
    for (const id of ids.split(',')) {
      if (this.#waiting.has(id)) this.#go(id);
      else this.#early.set(id, now);
    }
    // Every worker hears every consent; one for a job not held here is forgotten after a while.
    for (const [id, at] of this.#early) {
      if (now - at < 10_000) break; // in insertion order: the rest are newer
      this.#early.delete(id);
    }
  }

  /** Resolves once `jobId` may start; rejects with the signal's reason if it is cancelled first. */
  wait(jobId: string, producer: string, signal: AbortSignal): Promise<void> {
    if (this.#early.delete(jobId) || this.#heard.get(producer) === Infinity) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#waiting.delete(jobId);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const now = Date.now();
      this.#waiting.set(jobId, {
        producer,
        since: now,
        askedAt: now,
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      });
      this.#timer ??= setInterval(() => this.#check(), this.askAfterMs);
    });
  }

  #go(id: string): void {
    const waiter = this.#waiting.get(id);
    if (waiter === undefined) return;
    this.#waiting.delete(id);
    waiter.resolve();
  }

  /** Asks again for slow answers; runs the jobs of a producer long silent. */
  #check(): void {
    const now = Date.now();
    const ask: string[] = [];
    for (const [id, waiter] of this.#waiting) {
      const silentFor = now - Math.max(waiter.since, this.#heard.get(waiter.producer) ?? 0);
      if (silentFor >= PRODUCER_SILENCE_MS) this.#go(id);
      else if (now - waiter.askedAt >= this.askAfterMs) {
        waiter.askedAt = now;
        ask.push(id);
      }
    }
    if (ask.length > 0) void this.ask(ask.join(',')).catch(() => {});
    if (this.#waiting.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** The worker's `concurrency`: jobs that may run at once, of the twice as many it holds. @internal */
export class RunSlots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#free = size;
  }

  /** Resolves with a slot; rejects with the signal's reason if it aborts first. */
  acquire(signal: AbortSignal): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const take = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.#waiting.splice(this.#waiting.indexOf(take), 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(take);
    });
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#free++;
  }
}
