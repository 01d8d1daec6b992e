// A failed future nobody looked at is reported (THREADLOOP_UNOBSERVED_FAILURE), as asyncio reports
// "Future exception was never retrieved": when it is garbage-collected, or still alive at exit.
// Each scenario runs in its own process (fixtures/unobserved.js, `node --expose-gc`), which
// collects garbage until the scenario's futures are gone and a control future — failed, never
// looked at — has been reported: the warnings a scenario expects are those and no others.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Future, ThreadPoolExecutor, startLoopThread } from 'threadloop';
import { failsWith } from './helpers/util.js';

const fixture = fileURLToPath(new URL('./fixtures/unobserved.js', import.meta.url));
const CONTROL = "task 'throwValue' ← Error: control";

/** "task 'x' failed and nobody looked at its error (…): Error: m" → "task 'x' ← Error: m". */
function summary(line) {
  const match = /^(.*) failed and nobody looked at its error \(await its future, or call result\(\) or exception\(\)\): (.*)$/.exec(line);
  assert.ok(match, `not a THREADLOOP_UNOBSERVED_FAILURE warning: ${line}`);
  return `${match[1]} ← ${match[2]}`;
}

/**
 * Runs a scenario: `collected` are the warnings that came while garbage was collected, `printed`
 * all those printed on stderr (at exit too), `code` the exit code.
 */
function run(scenario, flags = []) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', ...flags, fixture, scenario], { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : error.code;
      if (typeof code !== 'number') return reject(error);
      const lines = stdout.trim().split('\n');
      if (code !== 0) return reject(new Error(`scenario ${scenario} exited with ${code}:\n${stderr}`));
      const printed = [...stderr.matchAll(/\[THREADLOOP_UNOBSERVED_FAILURE\] Warning: (.*)/g)].map((m) => summary(m[1]));
      resolve({ code, collected: JSON.parse(lines.at(-1)).map(summary).sort(), printed: printed.sort(), stderr });
    });
  });
}

/** The scenario's warnings came when its futures were collected, once each, and nothing else. */
async function expectCollected(scenario, expected) {
  const { collected, printed, code } = await run(scenario);
  const all = [...expected, CONTROL].sort();
  assert.deepEqual(collected, all);
  assert.deepEqual(printed, all, 'printed once each, and nothing more at exit');
  assert.equal(code, 0, 'the exit code is what it would have been');
}

describe('a failed future nobody looked at', () => {
  test('warns once, with the code, the task and the error, when it is collected; the process exits 0', async () => {
    // Also: a done callback that does not read the error, state, done() and wait() do not count.
    await expectCollected('neverLooked', ["task 'throwValue' ← Error: never looked at"]);
  });

  test('the warning carries the stack and the code for process.on("warning")', async () => {
    const { stderr } = await run('neverLooked');
    assert.match(stderr, /\[THREADLOOP_UNOBSERVED_FAILURE\] Warning: task 'throwValue' failed and nobody looked at its error .*: Error: never looked at\n {4}at /);
  });

  test('awaited, then, catch, allSettled, or returned from an async function, before or after it failed: no warning', async () => {
    await expectCollected('awaited', []);
  });

  test('result(), exception(), resultSync(), or a done callback reading it: no warning', async () => {
    await expectCollected('read', []);
  });

  test('cancelled, or aborted by its signal: no warning', async () => {
    await expectCollected('stoppedOnPurpose', []);
  });

  test("unobservedFailures: 'ignore' on a pool or a loop thread: no warning", async () => {
    await expectCollected('ignored', []);
  });

  test('--disable-warning=THREADLOOP_UNOBSERVED_FAILURE silences it', async () => {
    const { printed, code } = await run('neverLooked', ['--disable-warning=THREADLOOP_UNOBSERVED_FAILURE']);
    assert.deepEqual(printed, []);
    assert.equal(code, 0);
  });

  test('a loop thread names the task too; a future made by hand is "a Future"', async () => {
    await expectCollected('loopThread', ["task 'throwValue' ← Error: on a loop thread"]);
    await expectCollected('madeByHand', ['a Future ← Error: set by hand']);
  });

  test('a TaskGroup hands its failures over at join(): one never joined warns', async () => {
    await expectCollected('group', ["task 'throwValue' ← Error: in a group nobody joined"]);
  });

  test('a map never read warns; one left early does not for the calls it left behind', async () => {
    await expectCollected('map', ["task 'throwValue' ← Error: map: never read"]);
  });

  test('a stream whose error was read does not warn; one never read does', async () => {
    await expectCollected('stream', ["task 'failAfter' ← RangeError: chunk out of range"]);
  });

  test('still alive when the process exits: reported at exit; one looked at is not', async () => {
    const kept = await run('keptToExit');
    assert.deepEqual(kept.collected, [CONTROL], 'not collected, not reported before the exit');
    assert.deepEqual(kept.printed, [CONTROL, "task 'throwValue' ← Error: kept, never looked at, to the end"].sort());
    assert.equal(kept.code, 0);
    const looked = await run('keptAndLookedAt');
    assert.deepEqual(looked.printed, [CONTROL]);
  });
});

describe('unobservedFailures option', () => {
  test("is 'warn' or 'ignore'", async () => {
    assert.throws(() => new ThreadPoolExecutor({ unobservedFailures: 'loud' }), /ThreadPoolExecutor: unobservedFailures must be 'warn' or 'ignore', got "loud"/);
    assert.throws(() => new ThreadPoolExecutor({ unobservedFailures: false }), TypeError);
    await failsWith(() => startLoopThread({ unobservedFailures: 'off' }), TypeError, /startLoopThread: unobservedFailures must be 'warn' or 'ignore'/);
    await new ThreadPoolExecutor({ unobservedFailures: 'ignore' }).shutdown();
  });

  test('reading future.constructor (what await does) still gives Promise, on Future.prototype too', () => {
    const f = new Future();
    assert.equal(f.constructor, Promise);
    assert.equal(Future.prototype.constructor, Promise);
    assert.ok(f instanceof Future);
    f.setResult(1);
  });
});
