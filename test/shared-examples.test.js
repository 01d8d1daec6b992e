// The shared-primitives examples run to completion by themselves and print what they claim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = async (name) => {
  const file = fileURLToPath(new URL(`../examples/${name}`, import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [file], { timeout: 60_000 });
  return stdout;
};

test('examples/queue-producer-consumer.js', async () => {
  const out = await run('queue-producer-consumer.js');
  assert.match(out, /^producer put 1000 items$/m);
  assert.match(out, /^consumer got 1000 items, sum of squares = 333833500 \(expected 333833500\)$/m);
  assert.match(out, /^pool results received: 8 of 8$/m);
  assert.match(out, /^fib\(30\) = 832040, fib\(37\) = 24157817$/m);
  assert.match(out, /^main loop stayed responsive: yes$/m);
});

test('examples/lock-shared-counter.js', async () => {
  const out = await run('lock-shared-counter.js');
  assert.match(out, /^total = 5000 \(expected 5000\)$/m);
  assert.match(out, /^lock free at the end: true$/m);
});

test('examples/queue-join-workers.js', async () => {
  const out = await run('queue-join-workers.js');
  assert.match(out, /^put 30 jobs$/m);
  assert.match(out, /^all work completed: unfinished tasks = 0, sum of squares = 8555 \(expected 8555\)$/m);
  assert.match(out, /^jobs handled per worker: \d+ \+ \d+ \+ \d+ = 30$/m);
  assert.match(out, /^priority order:\n {2}urgent: restart the database\n {2}urgent: page the on-call\n {2}normal: send the newsletter\n {2}normal: resize the avatars\n {2}low: rebuild the search index$/m);
});
