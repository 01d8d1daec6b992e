/**
 * What a transfer list may hold, as threadloop's own type. @types/node renamed its
 * `TransferListItem` to `Transferable` and then removed the old name (@types/node 26), so a
 * published type that names either breaks for some users (and an unresolved import silently
 * turns `transfer` into `any[]` under `skipLibCheck`). This union is made of types every
 * supported @types/node (20 to 26) declares.
 */
import type { FileHandle } from 'node:fs/promises';
import type { ReadableStream, TransformStream, WritableStream } from 'node:stream/web';
import type { MessagePort } from 'node:worker_threads';

/**
 * Something a task call can move to the other thread instead of copying: an `ArrayBuffer` (the
 * usual case: the sender's copy is detached), a `MessagePort`, an `AbortSignal`, a `FileHandle`
 * or a web stream. A child process can only copy: its ArrayBuffers are copied, then detached.
 *
 * @example
 * const pixels = new Uint8Array(1 << 20);
 * await pool.submit(images.blur.with({ transfer: [pixels.buffer] }), pixels);
 */
export type Transferable = ArrayBuffer | MessagePort | AbortSignal | FileHandle | ReadableStream | WritableStream | TransformStream;

/** Whether `value` is a MessagePort (of any runtime's worker_threads: checked by shape). @internal */
export function isMessagePort(value: unknown): value is MessagePort {
  const port = value as Partial<MessagePort> | null;
  return typeof port?.postMessage === 'function' && typeof port.close === 'function';
}
