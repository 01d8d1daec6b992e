// Seed 004: threading.Thread(target=lambda: asyncio.run(coro)) — one independent job on a fresh
// thread with its own event loop, which ends with the job.
import { startThread } from 'threadloop';

const upload = async (files) => {
  const { threadId } = await import('node:worker_threads');
  let bytes = 0;
  for (const name of files) {
    await new Promise((resolve) => setTimeout(resolve, 10)); // async I/O on its own loop
    bytes += name.length * 1024;
  }
  return { threadId, bytes };
};

const t = startThread(upload, ['a.log', 'b.log', 'c.log']);
console.log('main thread goes on while the thread runs');
const { threadId, bytes } = await t.join();
console.log(`thread ${threadId > 0 ? 'ran separately' : 'was main?'}; uploaded ${bytes} bytes`);
