/**
 * Turns the tasks a connection defines into callable functions on this thread: modules are
 * imported once per thread (on the main thread, the application's own instance), inline sources
 * are compiled once per thread.
 */
import type * as FsModule from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TaskNotFoundError, TaskSerializationError } from '../wire/errors.js';
import { compileInline, toTask, type AnyFunction } from '../core/task.js';
import type { TaskRef } from '../wire/protocol.js';
import { setTaskHooks } from '../wire/shareable.js';
import { perThread } from '../wire/thread-state.js';

type Callable = (...args: unknown[]) => unknown;

// Per thread, not per copy of threadloop (wire/thread-state.ts): each module imported once.
const { modules, inline } = perThread('task-registry', 1, () => ({
  modules: new Map<string, Promise<Record<string, unknown>>>(),
  inline: new Map<string, Callable>(),
}));
// Inline tasks resolve `require()` from the application's working directory.
const requireFromCwd = createRequire(join(process.cwd(), '__threadloop_inline__.js'));

/** Imports a module once per thread. */
export function importOnce(url: string): Promise<Record<string, unknown>> {
  let mod = modules.get(url);
  if (mod === undefined) {
    mod = (import(url) as Promise<Record<string, unknown>>)
      .catch((error: unknown) => importThroughRequire(url, error))
      .catch((error: unknown) => Promise.reject(explainNotFound(url, error)));
    modules.set(url, mod);
  }
  return mod;
}

/**
 * Node 20 (and 22.0–22.1) do not apply module hooks registered with `--import` (tsx and the
 * like) inside worker threads (nodejs/node#47747), so `import()` of a `.ts` task module fails
 * there with ERR_UNKNOWN_FILE_EXTENSION although the main thread loads it. Those loaders also
 * hook `require()`, which does work in workers: load it through that hook if there is one, or
 * explain what to do.
 */
function importThroughRequire(url: string, error: unknown): Record<string, unknown> {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !url.startsWith('file:')) throw error;
  const path = fileURLToPath(url);
  const require = createRequire(url);
  const extension = extname(path);
  if (extension !== '' && extension in require.extensions) return require(path) as Record<string, unknown>;
  throw Object.assign(
    new TypeError(
      `${(error as Error).message} in a worker thread: run the app with a TypeScript loader such as ` +
        '`node --import tsx`, or on Node >= 22.6 with type stripping, or compile the task module to .js',
      { cause: error },
    ),
    { code },
  );
}

/** Module file extensions, each with its TypeScript or JavaScript counterparts. */
const counterparts: Record<string, string[]> = {
  '.js': ['.ts', '.mts', '.cts'],
  '.mjs': ['.mts', '.ts'],
  '.cjs': ['.cts', '.ts'],
  '.ts': ['.js', '.mjs', '.cjs'],
  '.mts': ['.mjs', '.js'],
  '.cts': ['.cjs', '.js'],
};

/**
 * A task module that is not there fails with the loader's ERR_MODULE_NOT_FOUND, which names
 * threadloop's own file as the importer. Say which taskModule() URL it was, and whether the file
 * exists under another extension: under tsx, `import './tasks.js'` finds tasks.ts, but a worker
 * is handed the URL as written; after tsc, the .ts file is not in the output. A module that is
 * there but imports one that is not keeps the loader's error, which names both.
 */
function explainNotFound(url: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if ((code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') || !url.startsWith('file:')) return error;
  // Loaded here, on this error path only: an ESM import of node:fs would make every worker load
  // fs/promises and what it needs (on Node 24: os, readline, …) at start.
  const { existsSync } = createRequire(import.meta.url)('node:fs') as typeof FsModule;
  const path = fileURLToPath(url);
  if (existsSync(path)) return error;
  const extension = extname(path);
  const stem = path.slice(0, path.length - extension.length);
  const other = (counterparts[extension] ?? []).map((ext) => stem + ext).find((candidate) => existsSync(candidate));
  const hint = other === undefined
    ? `: there is no file ${path}`
    : `, but ${other} exists: name the file that exists (a TypeScript loader maps '.js' to '.ts' in import ` +
      "statements, but a worker imports the task module's URL as written)";
  return new TaskNotFoundError(`taskModule() URL ${url} was not found${hint}`, { cause: error });
}

/**
 * A task name no module exports: calling it imports its module and does nothing else. A caller
 * that must know a module loads before it relies on it (a queue worker, before it takes jobs)
 * calls it, and any failure is the module's.
 */
export const LOAD_MODULE = '\u0000threadloop:load';
const loaded: Callable = () => undefined;

/** Resolves a task reference to a function: at once for inline tasks, later for modules. */
export function resolveTask(ref: TaskRef): Callable | Promise<Callable> {
  if (ref.kind === 'inline') {
    let fn = inline.get(ref.source);
    if (fn === undefined) {
      fn = compileInline(ref.source, ref.name, requireFromCwd) as AnyFunction as Callable;
      inline.set(ref.source, fn);
    }
    return fn;
  }
  return importOnce(ref.url).then((mod) => {
    if (ref.name === LOAD_MODULE) return loaded;
    const fn = mod[ref.name];
    if (typeof fn !== 'function') {
      const what = fn === undefined ? 'has no export' : 'has an export that is not a function named';
      throw new TaskNotFoundError(`module ${ref.url} ${what} '${ref.name}'`);
    }
    return fn as Callable;
  });
}

/** The tasks one connection has defined, by the id its peer gave them. */
export class TaskTable {
  readonly #entries = new Map<number, Callable | Promise<Callable>>();
  readonly #refs = new Map<number, TaskRef>();

  define(id: number, ref: TaskRef): void {
    this.#refs.set(id, ref);
    let entry: Callable | Promise<Callable>;
    try {
      entry = resolveTask(ref);
    } catch (error) {
      entry = Promise.reject(error);
    }
    if (entry instanceof Promise) {
      entry.then(
        (fn) => this.#entries.set(id, fn),
        () => {}, // each call that uses it reports the failure
      );
    }
    this.#entries.set(id, entry);
  }

  get(id: number): Callable | Promise<Callable> {
    const entry = this.#entries.get(id);
    if (entry === undefined) return Promise.reject(new TaskNotFoundError(`task #${id} was never defined`));
    return entry;
  }

  ref(id: number): TaskRef | undefined {
    return this.#refs.get(id);
  }
}

// A Barrier's action is a task held by a shared primitive, which cannot import this layer.
setTaskHooks({ toRef: (runnable) => toTask(runnable as AnyFunction).ref, resolve: resolveTask });

/**
 * An inline task that uses a variable of the scope it was written in fails on the worker with
 * "x is not defined". Say what happened and what to do instead.
 */
export function explainMissingIdentifier(error: unknown, ref: TaskRef | undefined): unknown {
  if (ref?.kind !== 'inline' || !(error instanceof ReferenceError)) return error;
  const match = /^(\S+) is not defined$/.exec(error.message);
  if (match === null) return error;
  const name = match[1];
  return new TaskSerializationError(
    `inline task '${ref.name}' uses '${name}', which does not exist on the thread that runs it: ` +
      `an inline task must be self-contained. Pass ${name} as an argument, or export the function ` +
      'from a module and use taskModule()',
    { cause: error },
  );
}
