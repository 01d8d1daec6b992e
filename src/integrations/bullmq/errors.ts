/** The error `threadloop/bullmq` adds to threadloop's own. */
import { ThreadloopError } from './internals.js';

/**
 * The queue server could not be reached for longer than `connectionTimeoutMs` (the futures
 * waiting on it fail with this), or a job vanished from the server (its data was lost).
 *
 * @example
 * try { await future; } catch (e) { if (e.code === 'ERR_QUEUE_CONNECTION') retryLater(); }
 */
export class QueueConnectionError extends ThreadloopError {
  override readonly code = 'ERR_QUEUE_CONNECTION';
}

/** `: <why>` from a connection error (an AggregateError, as Node's for `localhost`, by its parts), or nothing. @internal */
export function describeConnectionError(error: unknown): string {
  const parts = error instanceof AggregateError ? error.errors : [error];
  const messages = parts.filter((part): part is Error => part instanceof Error && part.message !== '').map((part) => part.message);
  return messages.length > 0 ? `: ${messages.join('; ')}` : '';
}

/** An abort's reason as a cancel event carries it: an error's message, or the reason as a string. @internal */
export function describeReason(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
