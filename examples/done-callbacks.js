// Seed 004: "use add_done_callback instead of blocking on future.result()". Submit to a loop
// thread and react in callbacks; only at the end, show resultSync (the blocking .result()).
import { ThreadEvent, runCoroutineThreadsafe, startLoopThread } from 'threadloop';

const loop = await startLoopThread({ name: 'jobs' });
const finished = new ThreadEvent();
let remaining = 3;

for (const ms of [60, 20, 40]) {
  const f = runCoroutineThreadsafe(async (ms) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (ms === 40) throw new RangeError(`job ${ms} failed`);
    return `job ${ms} ok`;
  }, loop, ms);
  f.addDoneCallback((f) => {
    f.exception().then((error) => {
      console.log(error === undefined ? `Done: ${f.resultSync()}` : `Error: ${error.name}: ${error.message}`);
      if (--remaining === 0) finished.set();
    });
  });
}
console.log('callbacks registered; the main thread is not blocked');
await finished.wait();

// The blocking form, for plain synchronous code: resultSync() (Python: future.result(timeout)).
const value = runCoroutineThreadsafe((a, b) => a * b, loop, 6, 7).resultSync({ timeoutMs: 5000 });
console.log(`resultSync: ${value}`);
await loop.stop();
