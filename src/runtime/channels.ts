/** Channels over the two kinds of pipe threadloop uses: MessagePorts and child-process IPC. */
import type { ChildProcess } from 'node:child_process';
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

/**
 * A channel over a child process's IPC pipe, from either end (`child` in the parent, `process`
 * in the child). It needs `serialization: 'advanced'` so frames keep typed arrays, Maps and
 * the like. Buffers are copied (IPC has no transfer), and nothing can be read synchronously.
 */
export function ipcChannel(end: ChildProcess | NodeJS.Process): Channel {
  return {
    post: (frame) => {
      if (end.connected) end.send!(frame);
    },
    listen: (handler) => end.on('message', handler as (message: unknown) => void),
    receiveSync: () => undefined,
    // In the parent, the child handle must be held too, or its 'exit' could go unheard.
    ref: () => {
      end.channel?.ref();
      if (end !== process) (end as ChildProcess).ref();
    },
    unref: () => {
      end.channel?.unref();
      if (end !== process) (end as ChildProcess).unref();
    },
  };
}
