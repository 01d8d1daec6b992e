/** Channels over the two kinds of pipe threadloop uses: MessagePorts and child-process IPC. */
import type { ChildProcess } from 'node:child_process';
import { isMainThread, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { explainCloneFailure, MAX_DEPTH, withinDepth } from '../wire/clone-check.js';
import { TaskSerializationError } from '../wire/errors.js';
import { FrameLane, nextSeq } from '../wire/frame-lane.js';
import type { Frame } from '../wire/protocol.js';
import type { Transferable } from '../wire/transferable.js';

/** How frames move: a MessagePort, a worker's parentPort, or a child process's IPC pipe. */
export interface Channel {
  /** Sends a frame; throws (DataCloneError) if something in it cannot be cloned. */
  post(frame: Frame, transfer: Transferable[]): void;
  /** Calls `handler` for each frame that arrives. */
  listen(handler: (frame: Frame) => void): void;
  /** Takes an arrived frame without the event loop (threads only); undefined if none. */
  receiveSync(): Frame | undefined;
  /**
   * This thread polls for the peer's frames (it spins or blocks on a wake counter and reads them
   * with `receiveSync`), for one more reason or one fewer: the peer may then send through shared
   * memory (see wire/frame-lane.ts). Threads with lanes only.
   */
  poll?(on: boolean): void;
  /** Whether the other end polls now (see `poll`). */
  peerPolls?(): boolean;
  /** Whether an open channel keeps this thread's event loop alive. */
  ref(): void;
  unref(): void;
}

/** The two lanes (wire/frame-lane.ts) beside a thread's port, as one end sees them. */
export interface Lanes {
  /** What the other end writes and this end reads. */
  readonly in: FrameLane;
  /** What this end writes. */
  readonly out: FrameLane;
}

/** Makes the lanes of a new thread channel: this end's, and the buffers the other end needs. */
export function makeLanes(): { here: Lanes; there: [SharedArrayBuffer, SharedArrayBuffer] } {
  const down = new FrameLane();
  const up = new FrameLane();
  return { here: { in: up, out: down }, there: [down.buffer, up.buffer] };
}

/** The other end's lanes, from the buffers `makeLanes` gave it. */
export function lanesFrom(there: [SharedArrayBuffer, SharedArrayBuffer] | undefined): Lanes | undefined {
  return there === undefined ? undefined : { in: new FrameLane(there[0]), out: new FrameLane(there[1]) };
}

const resolved = Promise.resolve();

/**
 * A channel over a MessagePort (threads). Frames can also be read synchronously.
 *
 * `maxDepth` is how deeply nested a value the thread at the other end can rebuild (see
 * MAX_DEPTH), where this thread could send deeper ones: a message that thread fails to rebuild
 * would be dropped without a word (a 'messageerror' event) and its calls would never settle.
 * Undefined where this thread's own structured clone gives out first (main thread to worker).
 */
export function portChannel(port: MessagePort, maxDepth?: number, lanes?: Lanes): Channel {
  const post = (frame: Frame, transfer: readonly unknown[]): void => {
    if (maxDepth !== undefined) checkDepth(frame, maxDepth);
    try {
      port.postMessage(frame, transfer as never[]);
    } catch (error) {
      throw explainCloneFailure(error);
    }
  };
  if (lanes !== undefined) return laneChannel(port, post, lanes);
  return {
    post,
    listen: (handler) => port.on('message', handler),
    receiveSync: () => receiveMessageOnPort(port)?.message as Frame | undefined,
    ref: () => port.ref(),
    unref: () => port.unref(),
  };
}

/**
 * A port with lanes beside it: a frame goes through the outgoing lane while the other end polls
 * it (and the frame fits), else through the port with its sequence number appended. The reading
 * end takes frames from both in sequence order: a port frame that overtook lane frames waits
 * (they are in the lane already: written before it was posted).
 */
function laneChannel(port: MessagePort, post: (frame: Frame, transfer: readonly unknown[]) => void, lanes: Lanes): Channel {
  let sent = 0;
  let expected = 1;
  /** A port frame read ahead of the lane frames before it, and its sequence number. */
  let early: Frame | undefined;
  let earlySeq = 0;
  let handler: ((frame: Frame) => void) | undefined;
  let polls = 0;
  /** Whether the incoming lane says this end polls; whether a microtask will see if it still does. */
  let flagged = false;
  let unflagQueued = false;
  /** Port frames read: equal to the writer's count of port posts, the port is empty. */
  let fromPortCount = 0;

  const postNumbered = (frame: Frame, transfer: readonly unknown[]): void => {
    const seq = nextSeq(sent);
    frame.push(seq);
    try {
      post(frame, transfer);
    } catch (error) {
      frame.pop(); // the caller may send its ops one by one (Connection.#postOneByOne)
      throw error;
    }
    sent = seq;
    lanes.out.postedToPort();
  };
  const fromLane = (): Frame => {
    if (lanes.in.peek() !== expected) throw new Error(`threadloop: frame ${expected} is missing from its lane`);
    expected = nextSeq(expected);
    return lanes.in.take();
  };
  const fromPort = (frame: Frame): Frame => {
    fromPortCount = (fromPortCount + 1) | 0;
    const seq = frame.pop() as number;
    if (seq === expected) {
      expected = nextSeq(expected);
      return frame;
    }
    early = frame;
    earlySeq = seq;
    return fromLane();
  };
  const receiveSync = (): Frame | undefined => {
    if (early !== undefined) {
      if (earlySeq !== expected) return fromLane();
      const frame = early;
      early = undefined;
      expected = nextSeq(expected);
      return frame;
    }
    if (lanes.in.peek() === expected) return fromLane();
    if (lanes.in.portPosts() === fromPortCount) return undefined;
    const message = receiveMessageOnPort(port);
    return message === undefined ? undefined : fromPort(message.message as Frame);
  };
  const drain = (): void => {
    if (handler === undefined) return;
    for (let frame = receiveSync(); frame !== undefined; frame = receiveSync()) handler(frame);
  };
  /**
   * Polling ends at the end of the current job, not at once: a thread that blocks in resultSync
   * again (a sequence of blocking calls) keeps the lane, with no write to a line the other thread
   * reads. Frames that come meanwhile wait in the lane, and are taken by that next wait, or here
   * — before the event loop would have delivered a port message.
   */
  const unflag = (): void => {
    unflagQueued = false;
    if (polls > 0 || !flagged) return;
    flagged = false;
    lanes.in.poll(false);
    drain(); // what was written before the flag dropped, and not announced through the port
  };
  return {
    post: (frame, transfer) => {
      const out = lanes.out;
      if (transfer.length > 0 || !out.polled() || !out.write(frame, nextSeq(sent))) return postNumbered(frame, transfer);
      sent = nextSeq(sent);
      // The other end may have stopped polling since: then it hears through the port (an empty
      // frame), or has looked at the lane after it stopped (see poll) — either way it is read.
      if (!out.polled()) postNumbered([], []);
    },
    listen: (h) => {
      handler = h;
      port.on('message', (frame: Frame) => {
        h(fromPort(frame));
        if (early !== undefined) drain(); // the port frame itself, after the lane frames before it
      });
    },
    receiveSync,
    peerPolls: () => lanes.out.polled(),
    poll: (on) => {
      polls += on ? 1 : -1;
      if (on) {
        if (!flagged) {
          flagged = true;
          lanes.in.poll(true);
        }
      } else if (polls === 0 && !unflagQueued) {
        unflagQueued = true;
        void resolved.then(unflag);
      }
    },
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
