/**
 * Ports made for a message that may never be sent. A loop handle's port is served by the loop's
 * thread from the moment the handle is made, for a call that may be dropped unsent (cancelled
 * while queued, refused by a full queue, its signal aborted): once the handle's state is
 * collected, its port is closed here. A port that is sent is let go at once: holding its empty
 * object until a collection came kept ~3 KB outside the JS heap per call (measured, 500 MB over
 * 150,000 calls); and it cannot be held weakly, as Deno collects an open port nobody holds.
 */
import type { MessagePort } from 'node:worker_threads';
import { isMessagePort } from '../wire/transferable.js';

const unsent = new FinalizationRegistry<MessagePort>((port) => port.close());

/** Closes `port` once `owner` is collected, unless it was sent (`portsSent`) before. */
export function closeIfUnsent(owner: object, port: MessagePort): void {
  unsent.register(owner, port, port);
}

/** These went with a message that was sent: nothing to close. */
export function portsSent(transfer: readonly unknown[]): void {
  for (const item of transfer) if (isMessagePort(item)) unsent.unregister(item);
}
