/**
 * `mainLoop()` and `currentLoop()`: the loops of this process a task can be sent to from here.
 * In a worker, the main loop is reached over the connection the worker already has; a thread's
 * own loop is reached through a MessageChannel within the thread, so a call to it behaves
 * exactly like a call to any other loop (cloned arguments, ordering, errors).
 */
import { MessageChannel, isMainThread, resourceLimits, threadId, type MessagePort } from 'node:worker_threads';
import { MAX_DEPTH } from '../wire/clone-check.js';
import { perThread } from '../wire/thread-state.js';
import { noteShareableCreated, registerShareable, type SharedDescriptor } from '../wire/shareable.js';
import { Op } from '../wire/protocol.js';
import type { Transferable } from '../wire/transferable.js';
import { Slots } from '../wire/slots.js';
import { Wake } from '../wire/wake.js';
import { portChannel, workerDepth } from './channels.js';
import { Connection } from './connection.js';
import { ClientLoop, LoopClient, reportUncaught, type Loop } from './loop.js';
import { closeIfUnsent } from './unsent-ports.js';
import { LoopClosedError } from '../wire/errors.js';
import type { UnobservedFailures } from '../core/unobserved.js';

// Per thread, not per copy of threadloop: task code may have loaded another copy than the worker
// runtime that set the main loop (wire/thread-state.ts).
const state = perThread('loops', 1, () => ({
  main: undefined as Loop | undefined,
  own: undefined as Loop | undefined,
  ownName: isMainThread ? 'main' : `thread-${threadId}`,
}));

/** Set by the worker runtime at start. @internal */
export function setMainLoop(loop: Loop, name: string): void {
  state.main = loop;
  state.ownName = name;
}

/**
 * The main thread's event loop, from any thread threadloop started (pool workers, loop threads).
 * Tasks sent to it run in the application's own module instances, so they can use the main
 * thread's connection pools and sessions. In a ProcessPoolExecutor's child it is the parent's
 * main loop. On the main thread it is `currentLoop()`.
 *
 * @example
 * // in a worker task:
 * const user = await mainLoop().submit(db.findUser, id); // runs on the main thread
 */
export function mainLoop(): Loop {
  // A pool's child process is a main thread too, but its "main loop" is the parent's.
  if (state.main !== undefined) return state.main;
  if (isMainThread) return currentLoop();
  throw new Error('mainLoop() is only available in threads started by threadloop (pool workers and loop threads)');
}

/**
 * The calling thread's own event loop. Blocking on a future from it (`resultSync`) throws
 * `DeadlockError`: only this thread could settle it.
 *
 * @example
 * currentLoop().callSoonThreadsafe(() => console.log('later, on this thread'));
 */
export function currentLoop(): Loop {
  return (state.own ??= loopback());
}

function loopback(): Loop {
  const { port1, port2 } = new MessageChannel();
  const { ownName } = state;
  const slots = new Slots();
  // Both ends are this thread: what it sends, it must rebuild.
  const depth = isMainThread ? MAX_DEPTH.mainThread : workerDepth(resourceLimits.stackSizeMb, false);
  const channel = portChannel(port1, depth);
  const client: LoopClient = new LoopClient({
    name: ownName,
    where: 'this thread',
    sender: new Connection(channel, { result: (id, ok, value) => client.result(id, ok, value) }),
    slots,
    wake: undefined, // only this thread could answer: blocking on it would never end
    keepAlive: channel,
    report: (error) => reportUncaught(error, ownName),
  });
  // The serving end: never holds the process open by itself.
  new Connection(portChannel(port2, depth), { result: () => {} }, slots);
  port1.unref();
  port2.unref();
  return new ClientLoop(client);
}

/** What every handle of a loop carries: its name, its shared cells, and the options its calls keep. @internal */
export interface LoopIdentity {
  name: string;
  /** See AttachedLoopState. */
  end: SharedArrayBuffer;
  /** The loop's `abortGraceMs` and `unobservedFailures`, which its calls keep from any thread. */
  abortGraceMs: number | undefined;
  unobservedFailures: UnobservedFailures | undefined;
}

/** How a loop handle travels to another thread: its own port to the loop's thread. @internal */
export interface AttachedLoopState extends LoopIdentity {
  port: MessagePort;
  /** Bumped by the loop's thread when it answers on `port`. */
  wake: SharedArrayBuffer;
  /** Start/withdraw cells of the calls sent on `port`. */
  slots: SharedArrayBuffer;
  /**
   * Cells shared by every handle of the loop (LoopCell): how it ended, as its owner saw it
   * (LoopEnd); the loop's threadId + 1, written by the loop's thread as it serves its first
   * handle; how many handles it serves now.
   */
  end: SharedArrayBuffer;
}

/**
 * The cells of AttachedLoopState.end; `owner` and `seq` name the loop in the process (the thread
 * that started it, +1, and its count of loops started). @internal
 */
export const LoopCell = { end: 0, thread: 1, handles: 2, owner: 3, seq: 4, count: 5 } as const;

// Per thread, not per copy of threadloop: two copies must not number two loops alike.
const started = perThread('loops-started', 1, () => ({ count: 0 }));

/** Names a new loop in the process, in its `end` cells. @internal */
export function nameLoop(end: Int32Array): void {
  Atomics.store(end, LoopCell.owner, threadId + 1);
  Atomics.store(end, LoopCell.seq, ++started.count);
}

/** How a loop thread ended, as its owner writes it for the handles sent to other threads. @internal */
export const LoopEnd = { running: 0, stopped: 1, died: 2 } as const;

/**
 * A handle of a loop thread for another thread: a new port to the loop's thread, whose end
 * `tell` sends there (over a connection that thread serves, as an ATTACH control op). @internal
 */
export function attachment(loop: LoopIdentity, tell: (state: AttachedLoopState, transfer: Transferable[]) => void): SharedDescriptor {
  const { port1, port2 } = new MessageChannel();
  const { name, end, abortGraceMs, unobservedFailures } = loop;
  const wake = new Wake().buffer;
  const slots = new Slots().buffer;
  tell({ port: port2, name, wake, slots, end, abortGraceMs, unobservedFailures }, [port2]);
  const state: AttachedLoopState = { port: port1, name, wake, slots, end, abortGraceMs, unobservedFailures };
  closeIfUnsent(state, port1);
  return { kind: 'Loop', state, transfer: [port1] };
}

/**
 * The handles this thread holds, by loop. A thread keeps one handle of a loop however many calls
 * bring it one, and closes the port each later one came with: a pool task given the loop with
 * every call (`pool.submit(work, loop)`) would otherwise hold a port to the loop's thread per call
 * (~30 KB, outside the JS heap, so no garbage collection comes for it: measured, 700 MB after
 * 22,000 requests). One handle also keeps this thread's calls in order, whichever call brought it.
 */
const held = new Map<string, ClientLoop>();

/** On the receiving thread: a Loop over the port that came with a loop handle, or the one held already. */
function attachedLoop(state: AttachedLoopState): ClientLoop {
  const end = new Int32Array(state.end);
  const key = `${Atomics.load(end, LoopCell.owner)}:${Atomics.load(end, LoopCell.seq)}`;
  const known = held.get(key);
  if (known !== undefined && !known.isClosed()) {
    state.port.close(); // (the loop's thread stops serving it)
    return known;
  }
  const channel = portChannel(state.port, workerDepth());
  // A handle of the loop this very thread runs (a task given its own loop): only this thread
  // could answer its calls, so blocking on one throws DeadlockError, as on currentLoop().
  const servedHere = Atomics.load(end, LoopCell.thread) === threadId + 1;
  const endError = (): LoopClosedError => {
    const how = Atomics.load(end, LoopCell.end);
    if (how === LoopEnd.stopped) return new LoopClosedError(`loop '${state.name}' was stopped before the call finished`);
    if (how === LoopEnd.died) return new LoopClosedError(`loop thread '${state.name}' is gone: it crashed or was ended before the call finished`);
    return new LoopClosedError(`loop '${state.name}' is stopped, or its thread is gone`);
  };
  const sender = new Connection(channel, { result: (id, ok, value) => client.result(id, ok, value) });
  const client: LoopClient = new LoopClient({
    name: state.name,
    where: 'worker thread',
    sender,
    slots: new Slots(state.slots),
    wake: servedHere ? undefined : new Wake(state.wake),
    keepAlive: channel,
    // A thread blocked in resultSync hears no 'close': it asks the cell its owner writes.
    probe: () => (Atomics.load(end, LoopCell.end) === LoopEnd.running ? undefined : {}),
    abortGraceMs: state.abortGraceMs,
    unobservedFailures: state.unobservedFailures,
    lostError: endError,
    report: (error) => reportUncaught(error, `loop '${state.name}'`),
  });
  // The loop's thread ended (stopped, crashed, terminated): its end of the port closes with it,
  // and the calls sent here settle instead of waiting for an answer that cannot come.
  state.port.once('close', () => {
    client.close(endError(), true);
    if (held.get(key) === loop) held.delete(key);
  });
  state.port.unref();
  // A handle that arrives once its loop has ended hears no 'close' (its peer closed before it
  // came): it is closed at once, and calls made through it throw.
  if (Atomics.load(end, LoopCell.end) !== LoopEnd.running) {
    client.close(endError(), true);
    state.port.close(); // (nothing answers on it)
  }
  noteShareableCreated(); // it can be sent on: to a third thread, with a port of its own
  const loop = new ClientLoop(client, () => attachment(state, (attached, transfer) => sender.control(Op.Attach, attached, transfer)));
  if (!client.closed) held.set(key, loop);
  return loop;
}

/** On the loop's thread: serve the calls that arrive on an attached port. @internal */
export function serveAttached(state: AttachedLoopState): void {
  const end = new Int32Array(state.end);
  Atomics.store(end, LoopCell.thread, threadId + 1);
  Atomics.add(end, LoopCell.handles, 1);
  // (Its holder dropped it, or its thread ended: either closes the port.)
  state.port.once('close', () => Atomics.sub(end, LoopCell.handles, 1));
  // The caller may be a main thread, which rebuilds less deeply nested values than a worker sends.
  // Its handle may be sent on to a third thread: that thread's port comes this way (ATTACH).
  const events = { result: () => {}, control: (op: number, value: unknown) => op === Op.Attach && serveAttached(value as AttachedLoopState) };
  new Connection(portChannel(state.port, MAX_DEPTH.mainThread), events, new Slots(state.slots), new Wake(state.wake));
  state.port.unref();
}

registerShareable('Loop', (state) => attachedLoop(state as AttachedLoopState));
