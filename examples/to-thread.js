// seed 000 §1 / seed 002 §2 — asyncio.to_thread(blocking_io):
// run a blocking function on the default thread pool while the main event loop keeps going.
//
//     async def main():
//         result = await asyncio.to_thread(blocking_io)
//
import { taskModule, toThread } from 'threadloop';

const blocking = taskModule(new URL('./tasks/blocking.js', import.meta.url));

// A ticker on the main loop: if the loop were blocked, it would not tick.
let ticks = 0;
const ticker = setInterval(() => ticks++, 20);

const started = performance.now();
const result = await toThread(blocking.blockingIo); // blocks a worker thread for 300 ms, not us
const elapsed = performance.now() - started;
clearInterval(ticker);

console.log(`result: ${result}`);
console.log(`blocking call took ${Math.round(elapsed)} ms; the main loop ticked ${ticks} times meanwhile`);
console.log(`main loop was blocked: ${ticks < 5 ? 'yes' : 'no'}`);

// Arguments go after the task, as with to_thread(add, 2, 3). Inline functions work too, as long
// as they are self-contained (they are sent to the worker as source).
console.log(`add(2, 3) on a thread: ${await toThread((x, y) => x + y, 2, 3)}`);

// No shutdown needed: the default pool's idle workers never keep the process alive.
