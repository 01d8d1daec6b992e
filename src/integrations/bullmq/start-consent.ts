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
 * A producer that is gone cannot answer: a worker that has held a job `PRODUCER_SILENCE_MS`
 * without a word from its producer counts that producer gone and runs its jobs (later ones after
 * a probe of its own on the stream shows it has still heard nothing: worker-consents.ts); a
 * producer says `threadloop:bye` when it closes. For that to stay safe, a producer promises a
 * cancel only for a job it sent while speaking without a gap of half that silence (and says
 * something before it sends a job after such a gap): a worker cannot have counted it gone.
 *
 * A job its producer committed at submit (idle-commit.ts: a fleet with room, nothing else in
 * flight) carries a go-ahead instead, and starts without this wait: its future is running already.
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
/** Worker → itself: once it reads its own probe, it has read all said before it (`worker`, `n`). */
export const PROBE_EVENT = 'threadloop:probe';

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
