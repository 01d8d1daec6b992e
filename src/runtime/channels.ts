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
 * the like. Transferred buffers are copied, then detached on the sending side as a transfer would
 * leave them. Nothing can be read synchronously.
 */
export function ipcChannel(end: ChildProcess | NodeJS.Process): Channel {
  // An IPC message with no listener is lost (a MessagePort would queue it), so frames that
  // arrive before `listen` — while a child runs its initializer — wait here.
  let early: Frame[] | undefined = [];
  let deliver = (frame: Frame): void => void early!.push(frame);
  end.on('message', (frame: Frame) => deliver(frame));
  return {
    post: (frame, transfer) => {
      if (!end.connected) return;
      end.send!(frame); // serializes at once, so the buffers can be let go right after
      // IPC can only copy; detach what was to be transferred, so both executors behave alike.
      for (const item of transfer) if (item instanceof ArrayBuffer) structuredClone(item, { transfer: [item] });
    },
    listen: (handler) => {
      deliver = handler;
      const waiting = early!;
      early = undefined;
      for (const frame of waiting) handler(frame);
    },
    receiveSync: () => undefined,
    // In the parent, the child handle must be held too, or its 'exit' could go unheard. (Bun 1.4's
    // parent-side channel has no ref()/unref(), oven-sh/bun#33593: the child handle does it all.)
    ref: () => {
      end.channel?.ref?.();
      if (end !== process) (end as ChildProcess).ref();
    },
    unref: () => {
      end.channel?.unref?.();
      if (end !== process) (end as ChildProcess).unref();
    },
  };
}
