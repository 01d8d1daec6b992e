// Tasks for the adversarial probes.
import { currentTask, mainLoop, taskModule } from 'threadloop/task';

const self = taskModule(import.meta.url);

export function echo(v) {
  return v;
}

/** Busy for `ms` on this thread, signal or not. */
export function spin(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end);
  return ms;
}

export async function sleep(ms, v = ms) {
  await new Promise((r) => setTimeout(r, ms));
  return v;
}

/** Records `tag` on the thread it runs on. */
export function mark(tag) {
  (globalThis.__marks ??= []).push({ tag, blocked: globalThis.__blocked === true });
  return tag;
}

export function marks() {
  return globalThis.__marks ?? [];
}

/** Fire-and-forget call to the main loop, then `ms` of work: the task does not wait for it. */
export async function pokeMainThenSpin(tag, ms) {
  mainLoop().callSoonThreadsafe(self.mark, tag);
  await new Promise((r) => setTimeout(r, 5)); // the call goes out
  return spin(ms);
}

/** After `delayMs`, fire-and-forget call to the main loop, then sleeps `afterMs`. */
export async function laterPokeMain(tag, delayMs, afterMs) {
  await new Promise((r) => setTimeout(r, delayMs));
  mainLoop().callSoonThreadsafe(self.mark, tag);
  await new Promise((r) => setTimeout(r, afterMs));
  return tag;
}

export async function callMain(v) {
  return mainLoop().submit(self.echo, v);
}

export function die(how) {
  if (how === 'exit') process.exit(3);
  if (how === 'throw-later') setTimeout(() => {
    throw new Error('uncaught later');
  });
  if (how === 'oom') {
    const keep = [];
    for (;;) keep.push(new Array(100_000).fill(keep.length));
  }
  return new Promise(() => {});
}

export async function awaitAbort() {
  const { signal } = currentTask();
  await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  signal.throwIfAborted();
}

/** Sends n calls to the main loop and returns the order they ran in. */
export async function floodMain(n) {
  const fs = [];
  for (let i = 0; i < n; i++) fs.push(mainLoop().submit(self.echo, i));
  return Promise.all(fs);
}

/** Records its order on this thread. */
export function seq(i) {
  (globalThis.__seq ??= []).push(i);
  return i;
}

export function seqList() {
  const s = globalThis.__seq ?? [];
  globalThis.__seq = [];
  return s;
}

/** Waits for its abort, then the worker exits: an abort and a crash together. */
export async function exitOnAbort() {
  const { signal } = currentTask();
  await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  process.exit(5);
}

/** Ignores its abort for good (a sync loop). */
export function forever() {
  for (;;);
}
