// What keeps a process running: an async wait on a shared primitive, until it is served — the
// item or the release may come from a thread that holds nothing open (an idle loop thread's timer).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const fixture = new URL('./fixtures/late-put.js', import.meta.url).pathname;

test('await queue.get() keeps the process running until an idle loop thread puts the item', async () => {
  const { stdout } = await run(process.execPath, [fixture, 'queue'], { timeout: 60_000 });
  assert.equal(stdout, 'late\n');
});

test('await mutex.acquire() keeps the process running until an idle loop thread releases the lock', async () => {
  const { stdout } = await run(process.execPath, [fixture, 'mutex'], { timeout: 60_000 });
  assert.equal(stdout, 'acquired\n');
});
