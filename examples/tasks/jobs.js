// Long-running tasks for examples/cancel-running-task.js.
import { currentTask } from 'threadloop/task';

/**
 * A cooperative long job: works in steps and checks its signal between them. `progress` is an
 * Int32Array over a SharedArrayBuffer: [steps done, 1 if it noticed the abort].
 */
export async function longJob(progress, steps) {
  const { signal } = currentTask(); // before the first await
  for (let i = 0; i < steps; i++) {
    if (signal.aborted) {
      Atomics.store(progress, 1, 1);
      return 'stopped early';
    }
    await new Promise((resolve) => setTimeout(resolve, 20)); // one step of (async) work
    Atomics.store(progress, 0, i + 1);
  }
  return 'finished';
}

/** A task that never yields and never checks a signal: `for (;;) {}`. */
export function stuck() {
  for (;;) {
    // spinning
  }
}
