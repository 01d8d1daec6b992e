/**
 * Context that crosses threads: `ContextVar` (Python's `contextvars.ContextVar`) and
 * `shareContext` (an existing `AsyncLocalStorage`, carried the same way).
 *
 * The values in force when a call is made are *captured* at submit (core/calls.ts), travel with
 * the call as one extra element of its CALL op (wire/protocol.ts, `CallFlag.Context`), and are
 * *installed* around the task on the thread that runs it (runtime/connection.ts) — so they are
 * in force there too, through its awaits, in the `mainLoop()` calls it makes back and in the
 * tasks it submits in turn, which capture them again.
 *
 * Variables are identified by name, not by object: the two threads each load their own copy of
 * the module that declares them, and the names are what both agree on.
 *
 * Cost. Nothing until a value is set: no AsyncLocalStorage exists before the first `run()` (or
 * a context arriving from another thread, or `shareContext`), and a submit checks one flag. Once
 * one exists, Node 20's AsyncLocalStorage (built on async hooks) slows every promise of that
 * thread a little; Node 22+ (AsyncContextFrame on 24) costs far less. Each call then captures
 * one store and clones the values with the call's arguments.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { findUncloneable } from '../wire/clone-check.js';
import { TaskSerializationError } from '../wire/errors.js';
import { describe } from './future.js';

/** What travels with a call: `[name, value, …]` of the variables, then of the shared stores. */
export type ContextPayload = [vars: unknown[] | 0, stores: unknown[] | 0];

/**
 * The values of every ContextVar in force. Copied on write, so a store is a snapshot and its
 * wire form is computed once, however many calls it goes with.
 */
interface VarStore {
  readonly vars: ReadonlyMap<string, unknown>;
  /** Values of shared stores that came from another thread but have no store of that name here. */
  readonly foreign: ReadonlyMap<string, unknown> | undefined;
  /** Its `[name, value, …]`, checked cloneable, once it was first sent. */
  wire: unknown[] | 0 | undefined;
}

/** One per thread (on globalThis, so a second copy of threadloop in a thread agrees with the first). */
interface ContextState {
  /** True once context may be set in this thread: the one flag a submit checks. */
  active: boolean;
  vars: AsyncLocalStorage<VarStore> | undefined;
  /** Stores registered with shareContext, by name. */
  readonly shared: Map<string, AsyncLocalStorage<unknown>>;
}

const state: ContextState = ((globalThis as Record<symbol, unknown>)[Symbol.for('threadloop.context')] ??= {
  active: false,
  vars: undefined,
  shared: new Map(),
}) as ContextState;

const EMPTY: VarStore = { vars: new Map(), foreign: undefined, wire: 0 };
/** Shared-store values already checked cloneable (objects; primitives always are). */
const checked = new WeakSet<object>();

function varStorage(): AsyncLocalStorage<VarStore> {
  if (state.vars === undefined) {
    state.vars = new AsyncLocalStorage<VarStore>();
    state.active = true;
  }
  return state.vars;
}

/**
 * A context variable whose value, set with `run()`, follows the code it runs — across `await`s,
 * and across threads: into the tasks that code submits to pools and loop threads, into their
 * `mainLoop()` calls back, and on into the tasks those submit.
 *
 * Values are structured-cloned with each call; one that cannot be fails at `submit` with a
 * `TaskSerializationError` naming the variable. Setting a value on the other thread does not
 * change it here (as in Python, a task runs in a copy of the caller's context).
 *
 * @example
 * // context.js — loaded by both sides
 * export const requestId = new ContextVar<string>('requestId');
 * // main thread
 * await requestId.run('req-42', () => pool.submit(tasks.handle, payload));
 * // tasks.js, on a worker
 * export function handle(payload) { log(requestId.get(), payload); } // 'req-42'
 */
export class ContextVar<T> {
  readonly #default: T | undefined;

  /**
   * `name` identifies the variable on every thread: declare it with the same name in a module
   * both sides load. `default` is what `get()` returns where no value is set.
   */
  constructor(
    readonly name: string,
    options: { default?: T } = {},
  ) {
    if (typeof name !== 'string' || name === '') throw new TypeError(`ContextVar: name must be a non-empty string, got ${describe(name)}`);
    this.#default = options.default;
  }

  /**
   * The value in force here, or the default.
   * @example const id = requestId.get();
   */
  get(): T | undefined {
    if (!state.active) return this.#default;
    const store = state.vars?.getStore();
    return store !== undefined && store.vars.has(this.name) ? (store.vars.get(this.name) as T) : this.#default;
  }

  /**
   * Runs `fn` with the variable set to `value` (and every other variable as it is here); returns
   * what `fn` returns. `undefined` unsets it.
   * @example await requestId.run('req-42', () => handle(request));
   */
  run<R>(value: T, fn: () => R): R {
    if (typeof fn !== 'function') throw new TypeError(`ContextVar.run: expected a function, got ${describe(fn)}`);
    const storage = varStorage();
    return storage.run(withVar(storage.getStore() ?? EMPTY, this.name, value), fn);
  }

  /**
   * Sets the value for the rest of the current `run()` (the code after this call and what it
   * awaits or submits); outside one, throws: there is no context to change.
   * @example requestId.run('a', () => { requestId.set('b'); return pool.submit(task); }); // task sees 'b'
   */
  set(value: T): void {
    const storage = state.vars;
    const store = storage?.getStore();
    if (storage === undefined || store === undefined) {
      throw new Error(`ContextVar '${this.name}'.set() was called outside a run(): set a value with run(value, fn) first`);
    }
    storage.enterWith(withVar(store, this.name, value));
  }

  /** `ContextVar(name)`, for messages and logs. */
  toString(): string {
    return `ContextVar(${this.name})`;
  }
}

function withVar(store: VarStore, name: string, value: unknown): VarStore {
  const vars = new Map(store.vars);
  if (value === undefined) vars.delete(name);
  else vars.set(name, value);
  return { vars, foreign: store.foreign, wire: undefined };
}

/**
 * Carries an existing `AsyncLocalStorage` (a logger's, a framework's) across threads like a
 * ContextVar: its store at submit travels with the call (structured-cloned) and is its store
 * while the task runs. Register it under the same `name` on both sides — in a module both load.
 *
 * @example
 * // logging.js, loaded by both sides
 * export const logContext = new AsyncLocalStorage<{ traceId: string }>();
 * shareContext(logContext, 'log');
 */
export function shareContext(storage: AsyncLocalStorage<unknown>, name: string): void {
  if (!(storage instanceof AsyncLocalStorage)) throw new TypeError(`shareContext: expected an AsyncLocalStorage, got ${describe(storage)}`);
  if (typeof name !== 'string' || name === '') throw new TypeError(`shareContext: name must be a non-empty string, got ${describe(name)}`);
  const known = state.shared.get(name);
  if (known !== undefined && known !== storage) throw new TypeError(`shareContext: another AsyncLocalStorage is already shared as '${name}'`);
  state.shared.set(name, storage);
  state.active = true;
}

/** True once context may be set in this thread; until then there is nothing to capture. @internal */
export function contextActive(): boolean {
  return state.active;
}

/**
 * The context to send with a call of `taskName`, or undefined if nothing is set. Throws
 * `TaskSerializationError` naming a value that cannot be cloned. @internal
 */
export function captureContext(taskName: string): ContextPayload | undefined {
  const store = state.vars?.getStore();
  let vars: unknown[] | 0 = 0;
  if (store !== undefined) {
    if (store.wire === undefined) store.wire = varsWire(store, taskName);
    vars = store.wire;
  }
  let stores: unknown[] | 0 = 0;
  for (const [name, storage] of state.shared) {
    const value = storage.getStore();
    if (value === undefined) continue;
    checkValue(value, `the store of the AsyncLocalStorage shared as '${name}'`, taskName);
    (stores ||= []).push(name, value);
  }
  if (store?.foreign !== undefined) {
    for (const [name, value] of store.foreign) if (!state.shared.has(name)) (stores ||= []).push(name, value);
  }
  return vars === 0 && stores === 0 ? undefined : [vars, stores];
}

function varsWire(store: VarStore, taskName: string): unknown[] | 0 {
  if (store.vars.size === 0) return 0;
  const wire: unknown[] = [];
  for (const [name, value] of store.vars) {
    checkValue(value, `the value of ContextVar '${name}'`, taskName);
    wire.push(name, value);
  }
  return wire;
}

function checkValue(value: unknown, what: string, taskName: string): void {
  if (typeof value === 'object' && value !== null) {
    if (checked.has(value)) return;
    const problem = findUncloneable(value);
    if (problem === undefined) {
      checked.add(value);
      return;
    }
    throw new TaskSerializationError(`${what} cannot be sent with task '${taskName}' to another thread: it is ${problem}`);
  }
  const problem = findUncloneable(value);
  if (problem !== undefined) throw new TaskSerializationError(`${what} cannot be sent with task '${taskName}' to another thread: it is ${problem}`);
}

/**
 * Runs `fn` in the context that came with a call — or, with none, in an empty one: a task must
 * not see values left in force by whatever set up this thread's connection. @internal
 */
export function runInContext<R>(payload: ContextPayload | undefined, fn: () => R): R {
  const storage = varStorage();
  let store = EMPTY;
  let stores: unknown[] | 0 = 0;
  if (payload !== undefined) {
    const [vars, shared] = payload;
    stores = shared;
    let foreign: Map<string, unknown> | undefined;
    if (shared !== 0) {
      for (let i = 0; i < shared.length; i += 2) {
        if (!state.shared.has(shared[i] as string)) (foreign ??= new Map()).set(shared[i] as string, shared[i + 1]);
      }
    }
    const map = new Map<string, unknown>();
    if (vars !== 0) for (let i = 0; i < vars.length; i += 2) map.set(vars[i] as string, vars[i + 1]);
    store = { vars: map, foreign, wire: vars }; // arrived as a clone of a checked wire form
  }
  let run = (): R => storage.run(store, fn);
  for (const [name, shared] of state.shared) {
    const value = valueOf(stores, name);
    const inner = run;
    run = () => shared.run(value, inner);
  }
  return run();
}

function valueOf(pairs: unknown[] | 0, name: string): unknown {
  if (pairs === 0) return undefined;
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === name) return pairs[i + 1];
  return undefined;
}
