/**
 * Cancellation across machines. BullMQ 6 gives a running job's processor an AbortSignal, but only
 * the Worker that holds the job can fire it (`worker.cancelJob(id)`), and no call reaches a job
 * on another machine. So the producer publishes a custom event on the queue's own event stream
 * (BullMQ's `QueueEventsProducer`, on Redis and PostgreSQL alike); every worker listens, and the
 * one running the job stops it (queue-worker.ts, job-stop.ts).
 */
import type { QueueEventsProducer } from 'bullmq';
import { EVENTS_MAX_LEN } from './start-consent.js';

/** The custom event's name on the queue's event stream. */
export const CANCEL_EVENT = 'threadloop:cancel';

/** What the cancel event carries. */
export interface CancelEvent {
  readonly jobId: string;
  /** Why: `'abort'` (the signal) or `'cancel'` (a future cancelled just as a worker took it). */
  readonly why: 'abort' | 'cancel';
  /** The abort reason's message, for the error the task ends with. */
  readonly reason: string;
}

/** Asks whichever worker runs `jobId` to stop it. */
export function publishCancel(producer: QueueEventsProducer, event: CancelEvent): Promise<void> {
  return producer.publishEvent({ eventName: CANCEL_EVENT, ...event }, EVENTS_MAX_LEN);
}
