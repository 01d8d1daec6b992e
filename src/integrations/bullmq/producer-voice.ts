/**
 * What a producer says on the control stream (start-consent.ts): consents, cancels, alive and
 * bye — and whether, from how it has been speaking, it can still promise a cancel.
 */
import type { QueueEventsProducer } from 'bullmq';
import { publishCancel, type CancelEvent } from './cancel-event.js';
import type { ConsentWire } from './pg-consent.js';
import { RecentIds } from './recent-ids.js';
import { ALIVE_EVENT, BYE_EVENT, PRODUCER_SILENCE_MS, publish, START_EVENT } from './start-consent.js';

/** A worker counts a producer gone after PRODUCER_SILENCE_MS without a word; half is the margin. */
const HALF_SILENCE = PRODUCER_SILENCE_MS / 2;
/** Within this long (ms), a take's second signal (its event after its ask, or the reverse) gets no second consent. */
const RECENT_MS = 1_000;

/** How a producer heard that a worker took a job: its 'active' event, or the worker's ask on the wire or on the stream. @internal */
export type TakeSignal = 'event' | 'ask' | 'stream-ask';

/** One producer's voice on the control stream. @internal */
export class ProducerVoice {
  /** Jobs whose start is consented to, to be said together: on the wire if there is one, and on the stream (answers to asks). */
  #consented: string[] = [];
  #consentedDurably: string[] = [];
  /** Jobs consented to in the last second: on which signal, and whether the take's other signal came since. */
  readonly #recent = new RecentIds<{ readonly from: TakeSignal; paired: boolean }>(RECENT_MS);
  /** What is being said right now (bye waits for it). */
  readonly #saying = new Set<Promise<void>>();
  /** Date.now() of the last word the server took, and of the first word after the last gap of HALF_SILENCE or more. */
  #lastSaid = 0;
  #speakingSince = 0;
  #alive: Promise<void> | undefined;

  constructor(
    private readonly stream: QueueEventsProducer,
    /** This producer's id: its job ids are `<producer>-<n>`. */
    private readonly producer: string,
    /** A faster channel for consents (PostgreSQL's NOTIFY), which may lose them. */
    private readonly wire?: ConsentWire,
  ) {}

  /**
   * Whether a cancel of a job sent at `sentAt` (Date.now(); 0: not sent) can be promised: it was
   * sent while this producer has been speaking without a gap of half a worker's patience, so no
   * worker can have counted it gone, and half that patience is left for the cancel to arrive.
   */
  canPromise(sentAt: number): boolean {
    return sentAt === 0 || (Date.now() - this.#lastSaid <= HALF_SILENCE && sentAt >= this.#speakingSince);
  }

  /**
   * Lets a job a worker took start; the consents of one batch of events read travel together. An
   * answer to a worker's ask on the stream goes on the stream: the wire may be what lost the first.
   */
  consent(jobId: string, from: TakeSignal): void {
    // A worker's ask on the wire and the job's 'active' event tell of the same take: the second
    // of the pair within a second is not answered again. (Another signal of the same kind is
    // another take — a retry, a hand-back — and a worker not answered asks on the stream.)
    const now = Date.now();
    const last = this.#recent.get(jobId, now);
    if (from !== 'stream-ask' && last !== undefined && last.from !== from && !last.paired) {
      last.paired = true;
      return;
    }
    this.#recent.set(jobId, { from, paired: false }, now);
    const durably = from === 'stream-ask';
    (durably || this.wire === undefined ? this.#consentedDurably : this.#consented).push(jobId);
    if (this.#consented.length + this.#consentedDurably.length > 1) return; // said with the others
    // After the events read together (emitted in one synchronous loop): one event for them all.
    queueMicrotask(() => {
      const [fast, durable] = [this.#consented, this.#consentedDurably];
      this.#consented = [];
      this.#consentedDurably = [];
      const onStream = (ids: string[]) => void this.#say(publish(this.stream, START_EVENT, { producer: this.producer, ids: ids.join(',') }));
      if (durable.length > 0) onStream(durable);
      // Not counted as speaking (#say): a worker may not hear the wire, and must hear the stream.
      if (fast.length > 0) this.wire!.send(this.producer, fast).catch(() => onStream(fast));
    });
  }

  /** Tells workers a job was cancelled (or a running one aborted). */
  cancel(event: CancelEvent): Promise<void> {
    return this.#say(publishCancel(this.stream, event));
  }

  /** Tracks other work that says something (a removal and its cancel): bye waits for it too. */
  track(saying: Promise<unknown>): void {
    void this.#say(saying);
  }

  /** Says alive, unless said something in the last second; resolves once the server has it. */
  alive(): Promise<void> {
    if (Date.now() - this.#lastSaid < 1_000) return Promise.resolve();
    this.#alive ??= this.#say(publish(this.stream, ALIVE_EVENT, { producer: this.producer })).finally(() => (this.#alive = undefined));
    return this.#alive;
  }

  /** Tells the workers this producer is gone (its jobs need no consent any more), after its cancels. */
  async bye(): Promise<void> {
    await Promise.all(this.#saying);
    await publish(this.stream, BYE_EVENT, { producer: this.producer }).catch(() => {});
  }

  #say(saying: Promise<unknown>): Promise<void> {
    const said = saying.then(
      () => {
        const now = Date.now();
        if (now - this.#lastSaid > HALF_SILENCE) this.#speakingSince = now; // after a gap, or the first word
        this.#lastSaid = now;
      },
      () => {},
    );
    this.#saying.add(said);
    void said.finally(() => this.#saying.delete(said));
    return said;
  }
}
