/** Channels over the two kinds of pipe threadloop uses: MessagePorts and child-process IPC. */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { Frame } from '../wire/protocol.js';
import type { Channel } from './connection.js';

/** A channel over a MessagePort (threads). Frames can also be read synchronously. */
export function portChannel(port: MessagePort): Channel {
  return {
    post: (frame, transfer) => port.postMessage(frame, transfer as never[]),
    listen: (handler) => port.on('message', handler),
    receiveSync: () => receiveMessageOnPort(port)?.message as Frame | undefined,
    ref: () => port.ref(),
    unref: () => port.unref(),
  };
}
