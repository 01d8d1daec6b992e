// seed 003: blocking functions that print the thread they run on.
import { currentThread } from 'threadloop/task';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * seed 003 §1: `def blocking_io(): print(... current_thread().name); time.sleep(2); print(...)`.
 * It says what it would print: a worker's own console output reaches the terminal through the
 * main thread, and may be cut short when the worker is ended.
 */
export function blockingIo() {
  const lines = [`blocking I/O starts, thread: ${currentThread().name}`];
  Atomics.wait(sleeper, 0, 0, 100); // time.sleep, shortened
  lines.push(`blocking I/O done, thread: ${currentThread().name}`);
  return { lines, thread: currentThread().name };
}

/** seed 003 §4: a task on the loop thread says where it runs. */
export async function whereAmI(label) {
  await null;
  return `${label} runs on thread: ${currentThread().name}`;
}
