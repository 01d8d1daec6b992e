/**
 * Tasks: what can cross a thread. Functions cannot be sent between JavaScript threads, so a task
 * is a *reference* to one — an export of a module (`taskModule`), or the source of a
 * self-contained function (inline) — plus per-call options (`task.with(...)`).
 */
import { TaskSerializationError } from '../wire/errors.js';
import { checkTimeout, describe, refuseUnknownOptions } from './future.js';
import { helpersFor } from './loader-helpers.js';
import type { TaskRef } from '../wire/protocol.js';
import { brand, perThread } from '../wire/thread-state.js';
import type { Transferable } from '../wire/transferable.js';

/** Any function a task may stand for. */
export type AnyFunction = (...args: never[]) => unknown;

/** Per-call options, attached with `task.with(...)`. */
export interface TaskOptions {
  /** Aborting it cancels a queued call, or fires `currentTask().signal` in a running one. */
  signal?: AbortSignal | undefined;
  /** Ends the call with a `TimeoutError` if it runs longer than this (queue time excluded). */
  timeoutMs?: number | undefined;
  /** ArrayBuffers (and other transferables) among the arguments to move instead of copy. */
  transfer?: readonly Transferable[] | undefined;
  /** Streams only (`executor.stream`, `loop.stream`): most chunks unread before the producer pauses. Default 16. */
  highWaterMark?: number | undefined;
  /**
   * QueueExecutor only (`threadloop/bullmq`): how many times the job may run when its task
   * throws (default 1: a task error is final). Local executors and loops refuse it with a
   * `TypeError` at the call: they run each call once.
   */
  attempts?: number | undefined;
  /**
   * QueueExecutor only: the wait before another attempt, in milliseconds (`1000`), or
   * `{ type: 'exponential', delayMs: 1000 }` to double it each time. Refused by local executors.
   */
  backoff?: number | { readonly type: 'fixed' | 'exponential'; readonly delayMs: number } | undefined;
  /** QueueExecutor only: the job's priority in the queue, 1 (highest) to 2,097,152; jobs without one go first. Refused by local executors. */
  priority?: number | undefined;
}

/** The options only a queue honours (`threadloop/bullmq`): a local executor or loop runs a call once, in order. */
const queueOnly = ['attempts', 'backoff', 'priority'] as const;

declare const signature: unique symbol;

/**
 * A reference to a function another thread can run, typed by that function.
 *
 * @example
 * const math = taskModule<typeof import('./math.js')>(new URL('./math.js', import.meta.url));
 * const f = executor.submit(math.fib.with({ timeoutMs: 1000 }), 30); // Future<number>
 */
export interface Task<F extends AnyFunction = AnyFunction> {
  /** The function's name, for messages and stats. */
  readonly name: string;
  /** The per-call options this task carries. */
  readonly options: Readonly<TaskOptions>;
  /**
   * The task's portable name, `'<module name>.<export>'`, when its module was given a name
   * (`taskModule(url, { name })`); what a queue worker on another machine looks it up by.
   */
  readonly remoteName: string | undefined;
  /** The same task with these options merged in. */
  with(options: TaskOptions): Task<F>;
  /** @internal */
  readonly ref: TaskRef;
  /** @internal A number naming `ref` within this thread, so it is sent only once per worker. */
  readonly id: number;
  /** Type-only: the function this task stands for. */
  readonly [signature]?: F;
}

/** A task, or a self-contained function to run as an inline task. */
export type Runnable<F extends AnyFunction> = Task<F> | F;

/** The typed tasks of a module: one per exported function. */
export type TaskModule<M> = {
  readonly [K in keyof M as M[K] extends AnyFunction ? K : never]: M[K] extends AnyFunction
    ? Task<M[K]>
    : never;
};

// Per thread, not per copy of threadloop (wire/thread-state.ts): a task id names a task on
// every connection of the thread, so two copies must not hand out the same one.
const state = perThread('tasks', 2, () => ({
  nextTaskId: 1,
  inlineTasks: new WeakMap<AnyFunction, Task>(),
  /** Inline tasks by name and source: see toTask. */
  inlineBySource: new Map<string, Task>(),
}));

/** Marks a Task for every copy of threadloop in the thread: `instanceof` knows only its own. */
const TASK = brand('task');

class TaskImpl<F extends AnyFunction> implements Task<F> {
  declare readonly [signature]?: F;

  constructor(
    readonly ref: TaskRef,
    readonly id: number,
    readonly options: Readonly<TaskOptions>,
    readonly remoteName: string | undefined = undefined,
  ) {}

  get name(): string {
    return this.ref.name;
  }

  with(options: TaskOptions): Task<F> {
    return new TaskImpl<F>(this.ref, this.id, { ...this.options, ...checkTaskOptions(options) }, this.remoteName);
  }

  toString(): string {
    return this.ref.kind === 'module' ? `Task(${this.ref.url}#${this.ref.name})` : `Task(${this.ref.name})`;
  }
}
// On the prototype: recognizing a task costs one property lookup, and no task carries it itself.
Object.defineProperty(TaskImpl.prototype, TASK, { value: true });

/** Options of `taskModule`. */
export interface TaskModuleOptions {
  /**
   * A portable name for the module, so its tasks can be sent where its URL means nothing (to
   * another machine, through `threadloop/bullmq`): its tasks are named `'<name>.<export>'`.
   */
  name?: string | undefined;
}

/**
 * The typed tasks of a module. The module is imported on the thread that runs a task, once per
 * thread; on the main thread that is the application's own module instance. Every export is a
 * task; one the module turns out not to have fails with `TaskNotFoundError` when run.
 *
 * @example
 * const math = taskModule<typeof import('./math.js')>(new URL('./math.js', import.meta.url));
 * await toThread(math.fib, 30);
 * // Named, for queue workers on other machines: its tasks are 'images.thumbnail', ...
 * const images = taskModule<typeof import('./images.js')>(new URL('./images.js', import.meta.url), { name: 'images' });
 */
export function taskModule<M = Record<string, (...args: unknown[]) => unknown>>(
  url: URL | string,
  options: TaskModuleOptions = {},
): TaskModule<M> {
  const href = moduleHref(url);
  const moduleName = portableName(options);
  const tasks = new Map<string, Task>();
  return new Proxy(Object.create(null) as TaskModule<M>, {
    get(_target, prop) {
      // `then` must stay undefined, or `await taskModule(...)` would treat it as a thenable.
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      let task = tasks.get(prop);
      if (task === undefined) {
        task = new TaskImpl({ kind: 'module', url: href, name: prop }, state.nextTaskId++, {}, moduleName === undefined ? undefined : `${moduleName}.${prop}`);
        tasks.set(prop, task);
      }
      return task;
    },
    has: (_target, prop) => typeof prop === 'string' && prop !== 'then',
  });
}

/**
 * A task for the export `name` of the module at `url`, for when the module's type is not at hand.
 *
 * @example
 * const fib = moduleTask<(n: number) => number>(new URL('./math.js', import.meta.url), 'fib');
 */
export function moduleTask<F extends AnyFunction>(url: URL | string, name = 'default'): Task<F> {
  if (typeof name !== 'string' || name === '') throw new TypeError('moduleTask: name must be a non-empty string');
  return (taskModule(url) as unknown as Record<string, Task<F>>)[name]!;
}


/**
 * Turns a function or task into a task. A function becomes an inline task: its source is sent
 * and compiled once per thread, so it must be self-contained — it may use its parameters,
 * globals and `require()`, but not variables of the scope it was written in.
 * @internal
 */
export function toTask<F extends AnyFunction>(runnable: Runnable<F>): Task<F> {
  if (isTask(runnable)) return runnable as Task<F>;
  if (typeof runnable !== 'function') {
    throw new TypeError(`expected a task or a function, got ${describe(runnable)}`);
  }
  let task = state.inlineTasks.get(runnable);
  if (task === undefined) {
    // A function made anew for each call (an arrow in a loop, in a request handler) is the task
    // the last one with its name and source was (an inline task is self-contained: the same
    // source does the same): one id, defined once to each thread — not one more per call, which
    // every thread that ran it kept (measured: 30,000 calls, 30,000 definitions kept).
    const key = `${runnable.name}\n${Function.prototype.toString.call(runnable)}`;
    task = state.inlineBySource.get(key);
    if (task === undefined) {
      task = new TaskImpl({ kind: 'inline', source: inlineSource(runnable), name: runnable.name || 'anonymous' }, state.nextTaskId++, {});
      state.inlineBySource.set(key, task);
    }
    state.inlineTasks.set(runnable, task);
  }
  return task as Task<F>;
}

/** Whether `value` is a task made by this module, in any copy of threadloop in the thread. */
export function isTask(value: unknown): value is Task {
  return typeof value === 'object' && value !== null && (value as { [TASK]?: true })[TASK] === true;
}

function inlineSource(fn: AnyFunction): string {
  const source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new TaskSerializationError(
      `${fn.name || 'this function'} is native or bound and has no source to send to another thread; ` +
        'wrap it in a self-contained function, or export it from a module and use taskModule()',
    );
  }
  if (/^class[\s{]/.test(source)) {
    throw new TaskSerializationError(`${fn.name || 'a class'} is a class, not a function; a task must be a function`);
  }
  try {
    compileInline(source, fn.name);
  } catch (error) {
    throw new TaskSerializationError(
      `the source of ${fn.name || 'this function'} cannot be compiled on its own: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return source;
}

/**
 * Compiles an inline task's source in this thread's global scope, with `require` at hand, and
 * the helpers a TypeScript loader writes into function bodies.
 * Method shorthand (`name(a) {…}`) is not an expression on its own, so it is retried as one.
 * @internal
 */
export function compileInline(source: string, name: string, req?: unknown): AnyFunction {
  // What a TypeScript loader may have written into the function (core/loader-helpers.ts).
  const helpers = helpersFor(source);
  const params = helpers === undefined ? ['require'] : ['require', ...helpers.names];
  let factory: (...values: unknown[]) => AnyFunction;
  try {
    factory = new Function(...params, `"use strict"; return (${source}\n);`) as typeof factory;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    factory = new Function(...params, `"use strict"; return ({${source}\n})[${JSON.stringify(name)}];`) as typeof factory;
  }
  return helpers === undefined ? factory(req) : factory(req, ...helpers.values);
}

/**
 * Refuses a task carrying queue job options (`attempts`, `backoff`, `priority`) where they
 * cannot be honoured: silently running once what was asked to be retried would be a lie.
 * @internal
 */
export function refuseQueueOptions(task: Task, where: string): void {
  const options = task.options;
  if (options.attempts === undefined && options.backoff === undefined && options.priority === undefined) return;
  const given = queueOnly.filter((name) => options[name] !== undefined);
  throw new TypeError(
    `task '${task.name}' carries ${given.join(', ')}: job options of a QueueExecutor (threadloop/bullmq); ${where} runs ` +
      `each call once, in order. Submit it to a QueueExecutor, or drop them: task.with({ ${given.map((n) => `${n}: undefined`).join(', ')} })`,
  );
}

const TASK_OPTIONS = new Set(['signal', 'timeoutMs', 'transfer', 'highWaterMark', 'attempts', 'backoff', 'priority']);

/** Validates per-call task options; a misspelt one is named, not ignored. @internal */
export function checkTaskOptions(options: TaskOptions): TaskOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`task.with() expects an options object, got ${describe(options)}`);
  }
  refuseUnknownOptions('task.with()', options, TASK_OPTIONS);
  const { signal, timeoutMs, transfer, highWaterMark, attempts, backoff, priority } = options;
  if (attempts !== undefined && !(Number.isInteger(attempts) && attempts >= 1)) {
    throw new RangeError(`attempts must be an integer >= 1, got ${describe(attempts)}`);
  }
  if (priority !== undefined && !(Number.isInteger(priority) && priority >= 1 && priority <= 2_097_152)) {
    throw new RangeError(`priority must be an integer from 1 to 2097152, got ${describe(priority)}`);
  }
  if (backoff !== undefined) {
    const delayMs = typeof backoff === 'object' && backoff !== null ? backoff.delayMs : backoff;
    if (typeof backoff === 'object' && backoff !== null && backoff.type !== 'fixed' && backoff.type !== 'exponential') {
      throw new TypeError(`backoff.type must be 'fixed' or 'exponential', got ${describe(backoff.type)}`);
    }
    if (!(Number.isInteger(delayMs) && (delayMs as number) >= 0)) {
      throw new RangeError(`backoff must be a delay in ms (an integer >= 0) or { type, delayMs }, got ${describe(backoff)}`);
    }
  }
  if (highWaterMark !== undefined && (!Number.isInteger(highWaterMark) || highWaterMark < 1)) {
    throw new RangeError(`highWaterMark must be an integer >= 1, got ${describe(highWaterMark)}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`signal must be an AbortSignal, got ${describe(signal)}`);
  }
  if (checkTimeout(timeoutMs) === undefined && timeoutMs === Infinity) return { ...options, timeoutMs: undefined }; // no timeout
  if (timeoutMs === 0) throw new RangeError('timeoutMs must be > 0');
  if (transfer !== undefined && !Array.isArray(transfer)) {
    throw new TypeError(`transfer must be an array of transferables, got ${describe(transfer)}`);
  }
  // The common mistakes, at the call (postMessage would refuse them later, blaming "an argument").
  transfer?.forEach((item: unknown, i) => {
    if (ArrayBuffer.isView(item)) throw new TypeError(`transfer[${i}] is a ${item.constructor.name}: transfer its .buffer (an ArrayBuffer)`);
    if (item instanceof SharedArrayBuffer) throw new TypeError(`transfer[${i}] is a SharedArrayBuffer, which is shared, never transferred: pass it as an argument only`);
    if (typeof item !== 'object' || item === null) throw new TypeError(`transfer[${i}] must be a transferable (an ArrayBuffer, a MessagePort, …), got ${describe(item)}`);
  });
  return options;
}

function portableName(options: TaskModuleOptions): string | undefined {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`taskModule options must be an object, got ${describe(options)}`);
  }
  const { name } = options;
  if (name === undefined) return undefined;
  if (typeof name !== 'string' || !/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(name)) {
    throw new TypeError(`taskModule: name must be a non-empty string of letters, digits, '_', '-' and '.', got ${describe(name)}`);
  }
  return name;
}

function moduleHref(url: URL | string): string {
  if (url instanceof URL) return url.href;
  if (typeof url !== 'string' || url === '') {
    throw new TypeError(`taskModule expects a URL (e.g. new URL('./tasks.js', import.meta.url)), got ${describe(url)}`);
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !/^[a-z]:[\\/]/i.test(url)) return new URL(url).href;
  if (/^([\\/]|[a-z]:[\\/])/i.test(url)) {
    throw new TypeError(`taskModule expects a URL; '${url}' is a file path: pass pathToFileURL(${JSON.stringify(url)}) (from 'node:url'), or new URL('./file.js', import.meta.url)`);
  }
  throw new TypeError(
    `taskModule expects an absolute URL such as new URL('./tasks.js', import.meta.url); '${url}' is relative ` +
      'and would resolve differently on the worker thread',
  );
}
