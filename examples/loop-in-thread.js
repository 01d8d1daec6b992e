// Seed 003 §4 / 000 §3: an event loop running in a background thread, fed from the main thread
// with runCoroutineThreadsafe, and stopped cleanly. Python: new_event_loop + run_forever in a
// threading.Thread, run_coroutine_threadsafe, call_soon_threadsafe(loop.stop), join().
import { isMainThread } from 'node:worker_threads';
import { runCoroutineThreadsafe, startLoopThread } from 'threadloop';

console.log(`main thread: isMainThread=${isMainThread}`);
const loop = await startLoopThread({ name: 'background' });

// An async task: runs on the loop thread, while the main thread goes on.
const asyncTask = async (ms) => {
  const { threadId } = await import('node:worker_threads');
  await new Promise((resolve) => setTimeout(resolve, ms));
  return `async task finished on thread ${threadId} after ${ms} ms`;
};
const future = runCoroutineThreadsafe(asyncTask, loop, 100);
console.log('main thread keeps running while the loop thread works');

// State kept on the loop thread between calls.
await loop.submit(() => { globalThis.visits = 0; });
for (let i = 0; i < 3; i++) loop.callSoonThreadsafe(() => { globalThis.visits++; });
console.log(`visits on the loop thread: ${await loop.submit(() => globalThis.visits)}`);

console.log(await future);
await loop.stop();
console.log(`loop stopped cleanly: isClosed=${loop.isClosed()}`);
