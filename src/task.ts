/**
 * `threadloop/task`: what code running *as a task* uses, and nothing else.
 *
 * A task module is imported in every thread (or child process) that runs one of its tasks. If it
 * imports `threadloop`, each of those threads also loads the executors, the loop threads and the
 * shared-memory primitives — code a task does not call. This entry point gives task code its
 * helpers from the part of threadloop that every worker has loaded already:
 *
 * - `currentTask()` — the running call's `id`, `name` and abort `signal` (call it before the
 *   task's first `await`);
 * - `move(value, transfer?)` — return a result by transfer instead of by copy;
 * - `mainLoop()` — the main thread's loop: `mainLoop().submit(task, ...args)` runs a task there;
 *   `currentLoop()` — the calling thread's own loop;
 * - `taskModule(url)` and `moduleTask(url, name)` — to name the tasks sent to those loops.
 * - `ContextVar` and `shareContext` — context that travels with the calls a task makes, declared
 *   in a module both sides load.
 *
 * They are the very functions `threadloop` exports, over the same module instances: the two
 * entry points can be mixed, and a Future that `mainLoop().submit()` returns is an
 * `instanceof Future` from `threadloop`. Importing `threadloop` in a task module still works; it
 * only costs each thread start-up time and memory. Task code that needs more (a pool or a queue
 * of its own, `wait`, the error classes) imports it from `threadloop`; type-only imports
 * (`import type { Future } from 'threadloop'`) cost nothing at run time.
 *
 * @example
 * // tasks.js — imported by each worker that runs one of its tasks
 * import { currentTask, mainLoop, move, taskModule } from 'threadloop/task';
 *
 * const db = taskModule(new URL('./db.js', import.meta.url));
 *
 * export async function thumbnail(id, size) {
 *   const { signal } = currentTask(); // before the first await
 *   const url = await mainLoop().submit(db.imageUrl, id); // runs on the main thread
 *   const image = await (await fetch(url, { signal })).arrayBuffer();
 *   return move(render(image, size)); // a Uint8Array, transferred instead of copied
 * }
 *
 * @module threadloop/task
 */
// Not used here: it keeps the worker runtime's code in as few files as before this entry point.
// esbuild puts modules in one chunk when the same entry points reach them, and without this line
// slots.ts, which the runtime needs but task code does not, would be a file of its own, costing
// each worker a module load (test/package.test.js checks the layout).
import './wire/slots.js';

export { currentTask, type TaskContext } from './runtime/current-task.js';
export { currentThread, type ThreadInfo } from './runtime/current-thread.js';
export { ContextVar, shareContext } from './core/context.js';
export { move } from './runtime/move.js';
export type { Transferable } from './wire/transferable.js';
export { mainLoop, currentLoop } from './runtime/loops.js';
export type { Loop } from './runtime/loop.js';
export { taskModule, moduleTask, type Task, type TaskModule, type TaskModuleOptions, type TaskOptions } from './core/task.js';
