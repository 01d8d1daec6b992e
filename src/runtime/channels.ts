/** Channels over the two kinds of pipe threadloop uses: MessagePorts and child-process IPC. */
import type { ChildProcess } from 'node:child_process';
import { isMainThread, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { explainCloneFailure, MAX_DEPTH, withinDepth } from '../wire/clone-check.js';
import { TaskSerializationError } from '../wire/errors.js';
import type { Frame } from '../wire/protocol.js';
import type { Channel } from './connection.js';

/**
 * A channel over a MessagePort (threads). Frames can also be read synchronously.
 *
 * `maxDepth` is how deeply nested a value the thread at the other end can rebuild (see
 * MAX_DEPTH), where this thread could send deeper ones: a message that thread fails to rebuild
 * would be dropped without a word (a 'messageerror' event) and its calls would never settle.
 * Undefined where this thread's own structured clone gives out first (main thread to worker).
 */
export function portChannel(port: MessagePort, maxDepth?: number): Channel {
  return {
    post: (frame, transfer) => {
      if (maxDepth !== undefined) checkDepth(frame, maxDepth);
      try {
        port.postMessage(frame, transfer as never[]);
      } catch (error) {
        throw explainCloneFailure(error);
      }
    },
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
      // Node's IPC reader rebuilds a message on the receiving main thread's stack, and a value
      // nested too deeply for it there is an uncaught exception: it would crash that process.
      checkDepth(frame, MAX_DEPTH.mainThread);
      try {
        end.send!(frame); // serializes at once, so the buffers can be let go right after
      } catch (error) {
        throw explainCloneFailure(error);
      }
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

/** Throws if a value in `frame` is nested more deeply than the receiving thread can rebuild. */
function checkDepth(frame: Frame, maxDepth: number): void {
  for (let i = 0; i < frame.length; i++) {
    const value = frame[i];
    if (typeof value === 'object' && value !== null && !withinDepth(value, maxDepth)) {
      throw new TaskSerializationError(
        `it is nested more than ${maxDepth} levels deep, which structured clone cannot rebuild on the receiving ` +
          "thread's stack (flatten it, or send it encoded as a string or buffer)",
      );
    }
  }
}

/**
 * How deeply nested a value a worker thread with this stack can rebuild, or undefined when the
 * main thread sends to it: the main thread's own structured clone refuses a value (about 3,000
 * levels) before a worker with the default 4 MiB stack would fail to rebuild it.
 */
export function workerDepth(stackSizeMb = DEFAULT_WORKER_STACK_MB, fromMainThread = isMainThread): number | undefined {
  if (fromMainThread && stackSizeMb >= DEFAULT_WORKER_STACK_MB) return undefined;
  return Math.floor((MAX_DEPTH.workerThread * stackSizeMb) / DEFAULT_WORKER_STACK_MB);
}

/** Node's default `resourceLimits.stackSizeMb` of a worker thread. */
const DEFAULT_WORKER_STACK_MB = 4;
