/**
 * Shareable values: threadloop objects that live in shared memory (queues, locks, events) and
 * must arrive on the other thread *live* — the same queue, not a copy.
 *
 * Structured clone keeps SharedArrayBuffers shared but drops prototypes, so a Mutex sent as-is
 * would arrive as a plain object. Before a message is sent, `encodeShareables` swaps every
 * Shareable (also nested in arrays, plain objects, Maps and Sets) for a small tagged record of its
 * shared state; `decodeShareables` turns those records back into instances on arrival.
 *
 * The walk costs nothing until the first Shareable is created in a thread: `shareablesInUse()`
 * stays false and senders skip it.
 */
import { TaskSerializationError } from './errors.js';
import type { TaskRef } from './protocol.js';
import { perThread } from './thread-state.js';
import { isMessagePort, type Transferable } from './transferable.js';

/**
 * Symbol-keyed method a Shareable implements: its kind and its cloneable shared state. A
 * registered symbol, so every copy of threadloop in a thread recognizes every copy's Shareables.
 */
export const toShared: unique symbol = Symbol.for('threadloop.toShared');

/** What a Shareable hands to the wire. `state` must be structured-cloneable. */
export interface SharedDescriptor {
  /** Registered kind, e.g. `'Mutex'`; selects the reviver on the receiving side. */
  kind: string;
  /** The shared state: SharedArrayBuffers and plain data. */
  state: unknown;
  /** Things in `state` to move rather than clone (a MessagePort for a loop handle). */
  transfer?: Transferable[];
}

/** A threadloop object that crosses threads live. */
export interface Shareable {
  [toShared](): SharedDescriptor;
}

const TAG = '__threadloop_shared__';

interface TaggedRecord {
  [TAG]: string;
  state: unknown;
}

// Per thread, not per copy of threadloop (wire/thread-state.ts): a Shareable made by one copy is
// sent by another's connection, and each kind is revived the same way whichever copy receives.
const state = perThread('shareables', 1, () => ({
  revivers: new Map<string, (state: unknown) => object>(),
  /** Whether any Shareable exists in this thread, so that senders must look for them. */
  created: false,
  /** Loads the revivers not loaded up front (see setReviverLoader). */
  reviverLoader: undefined as (() => Promise<unknown>) | undefined,
  reviversLoaded: undefined as Promise<void> | undefined,
}));

/**
 * Registers how to rebuild a Shareable of `kind` from its state. Call once per kind, at module
 * load, in the module that defines the class (every thread that imports threadloop gets it).
 * Where two copies of threadloop register a kind, the first keeps it.
 */
export function registerShareable(kind: string, revive: (state: unknown) => object): void {
  if (!state.revivers.has(kind)) state.revivers.set(kind, revive);
}

/**
 * What `fromShared` hands a primitive's constructor: the state to revive instead of making new.
 * Constructors take it through their implementation signature only (the public one does not name
 * it), and only an instance of this class counts, so user code cannot pass a state by accident.
 */
export class Revival<S = SharedArrayBuffer> {
  constructor(readonly state: S) {}
}

/** Calls `cls`'s constructor with a Revival of `state`, past its public signature. */
export function revive<T, S>(cls: abstract new (...args: never[]) => T, state: S): T {
  return new (cls as unknown as new (revival: Revival<S>) => T)(new Revival(state));
}

/**
 * The state of a `kind` as sent across: a SharedArrayBuffer of `byteLength` bytes, or a
 * TypeError saying what was expected (for `fromShared`, which users can call too).
 */
export function sharedBuffer(kind: string, state: unknown, byteLength: number): SharedArrayBuffer {
  if (!(state instanceof SharedArrayBuffer) || state.byteLength !== byteLength) {
    throw new TypeError(`${kind}.fromShared: expected the SharedArrayBuffer of a ${kind}`);
  }
  return state;
}

/**
 * Where the revivers are not loaded up front (a worker loads the shared-memory primitives only
 * when the first one arrives, to start faster and smaller), this loads them.
 */
export function setReviverLoader(load: () => Promise<unknown>): void {
  state.reviverLoader = load;
}

/** Whether every reviver is registered (or nothing is left to load). */
export function reviversReady(): boolean {
  return state.reviverLoader === undefined;
}

/** A function a task reference resolves to on this thread. */
export type ResolvedTask = (...args: unknown[]) => unknown;

/**
 * How a shared primitive that holds a task (a Barrier's action) turns a function or task into a
 * reference that can cross threads, and a reference back into a function. The runtime registers
 * them (runtime/task-registry.ts) — the primitives sit below it and cannot import it.
 */
export interface TaskHooks {
  /** A function or task → its reference; throws TypeError/TaskSerializationError if it is neither. */
  toRef(runnable: unknown): TaskRef;
  /** A reference → the function, at once (inline tasks) or once its module is imported. */
  resolve(ref: TaskRef): ResolvedTask | Promise<ResolvedTask>;
}

let taskHooks: TaskHooks | undefined;

/** Registers the task hooks; called once per thread by the runtime. */
export function setTaskHooks(hooks: TaskHooks): void {
  taskHooks = hooks;
}

/** The task hooks, or a TypeError saying that `what` needs threadloop's runtime on this thread. */
export function getTaskHooks(what: string): TaskHooks {
  if (taskHooks === undefined) {
    throw new TypeError(`${what} needs threadloop's runtime on this thread: import 'threadloop' (or run it in a threadloop thread)`);
  }
  return taskHooks;
}

/** Loads the revivers, once. */
export function loadRevivers(): Promise<void> {
  const load = state.reviverLoader;
  if (load === undefined) return Promise.resolve();
  return (state.reviversLoaded ??= load().then(() => {
    state.reviverLoader = undefined;
  }));
}

/** A Shareable's constructor calls this, so senders start walking messages for Shareables. */
export function noteShareableCreated(): void {
  state.created = true;
}

/** True once any Shareable exists in this thread (created here or received). */
export function shareablesInUse(): boolean {
  return state.created;
}

function isShareable(value: object): value is Shareable {
  return typeof (value as Partial<Shareable>)[toShared] === 'function';
}

function isPlainContainer(value: object): boolean {
  if (Array.isArray(value) || value instanceof Map || value instanceof Set) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Returns `value` with every Shareable replaced by a tagged record, copying only the containers
 * on the path to one (the rest is shared by reference). `found` says whether any was replaced.
 * With `where` set (e.g. `'a child process'`), a Shareable throws TaskSerializationError instead:
 * shared memory cannot reach that place.
 */
export function encodeShareables(
  value: unknown,
  where?: string,
): { value: unknown; found: boolean; transfer: Transferable[] | undefined } {
  if (!state.created) return { value, found: false, transfer: undefined };
  let found = false;
  let transfer: Transferable[] | undefined;
  const seen = new Map<object, unknown>();
  const walk = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (isShareable(v)) {
      const d = v[toShared]();
      if (where !== undefined) {
        throw new TaskSerializationError(
          `a ${d.kind} lives in shared memory and cannot be sent to ${where}; ` +
            'use a worker thread (ThreadPoolExecutor or a loop thread) to share it',
        );
      }
      found = true;
      if (d.transfer !== undefined) (transfer ??= []).push(...d.transfer);
      return { [TAG]: d.kind, state: d.state } satisfies TaggedRecord;
    }
    if (!isPlainContainer(v)) return v;
    if (seen.has(v)) return seen.get(v);
    seen.set(v, v);
    let out: unknown = v;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const w = walk(v[i]);
        if (w !== v[i]) {
          if (out === v) out = v.slice();
          (out as unknown[])[i] = w;
        }
      }
    } else if (v instanceof Map) {
      let changed = false;
      const entries = [...v].map(([k, x]) => {
        const w = walk(x);
        if (w !== x) changed = true;
        return [k, w] as const;
      });
      if (changed) out = new Map(entries);
    } else if (v instanceof Set) {
      const items = [...v].map(walk);
      if (items.some((x, i) => x !== [...v][i])) out = new Set(items);
    } else {
      for (const key of Object.keys(v)) {
        const x = (v as Record<string, unknown>)[key];
        const w = walk(x);
        if (w !== x) {
          if (out === v) out = { ...v };
          (out as Record<string, unknown>)[key] = w;
        }
      }
    }
    seen.set(v, out);
    return out;
  };
  let result: unknown;
  try {
    result = walk(value);
  } catch (error) {
    // The walk recurses once per level: a value too deep for this thread's stack is refused as
    // any too deep value is, instead of escaping as a bare RangeError (uncaught where a result is
    // sent, it ended the thread).
    if (!(error instanceof RangeError)) throw error;
    throw new TaskSerializationError(
      `it is nested too deeply to be sent (${error.message}); flatten it, or send it encoded as a string or buffer`,
      { cause: error },
    );
  }
  return { value: result, found, transfer };
}

/** Rebuilds the Shareables that `encodeShareables` replaced, in place. */
export function decodeShareables(value: unknown): unknown {
  return replaceTagged(value, (record) => {
    const revive = state.revivers.get(record[TAG]);
    if (revive === undefined) {
      throw new TaskSerializationError(`no reviver registered for shared kind '${record[TAG]}'`);
    }
    state.created = true;
    return revive(record.state);
  });
}

/**
 * Lets go of the Shareables in `value` as `encodeShareables` left them, for a call that will never
 * run (taken back, or its task failed to load): the ports their records hold (a loop handle's)
 * are closed, so the thread at the other end stops serving them.
 */
export function discardShareables(value: unknown): void {
  replaceTagged(value, (record) => {
    for (const part of Object.values(record.state as object)) if (isMessagePort(part)) part.close();
    return undefined;
  });
}

/** Replaces every tagged record in `value` (also nested in arrays, plain objects, Maps and Sets) by `replace`'s answer, in place. */
function replaceTagged(value: unknown, replace: (record: TaggedRecord) => unknown): unknown {
  const walk = (v: unknown, seen: Set<object>): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (typeof (v as Partial<TaggedRecord>)[TAG] === 'string') return replace(v as TaggedRecord);
    if (!isPlainContainer(v) || seen.has(v)) return v;
    seen.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = walk(v[i], seen);
    } else if (v instanceof Map) {
      for (const [k, x] of v) v.set(k, walk(x, seen));
    } else if (v instanceof Set) {
      const items = [...v];
      v.clear();
      for (const x of items) v.add(walk(x, seen));
    } else {
      const rec = v as Record<string, unknown>;
      for (const key of Object.keys(rec)) rec[key] = walk(rec[key], seen);
    }
    return v;
  };
  return walk(value, new Set());
}
