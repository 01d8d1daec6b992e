// monitorLoopBlocking: asyncio debug mode's slow-callback warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { LOOP_BLOCKED_WARNING, monitorLoopBlocking } from 'threadloop';

const THRESHOLD_MS = 50;

/** Holds the event loop for `ms`, like a synchronous hash or a big JSON.parse would. */
function busyWait(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/**
 * Awaits `promise` while holding the process open: the monitor's timer is unref'd (it never keeps
 * a process alive), so a test waiting only on it would let the process exit.
 */
async function keptAlive(promise) {
  const hold = setInterval(() => {}, 1_000);
  try {
    return await promise;
  } finally {
    clearInterval(hold);
  }
}

/** The next block `monitor` reports through a promise-resolving onBlocked. */
function watch(thresholdMs = THRESHOLD_MS) {
  const reports = [];
  let next;
  const monitor = monitorLoopBlocking({
    thresholdMs,
    onBlocked: (info) => {
      reports.push(info);
      next?.(info);
    },
  });
  const nextReport = () => new Promise((resolve) => (next = resolve));
  return { monitor, reports, nextReport };
}

test('a busy-wait of 3 × the threshold is reported with how long it blocked', { timeout: 10_000 }, async () => {
  const { monitor, nextReport } = watch();
  try {
    const reported = nextReport();
    const before = Date.now();
    const started = performance.now();
    busyWait(3 * THRESHOLD_MS);
    const info = await keptAlive(reported);
    // Not more than the time that really passed (a busy machine may add to the block itself, so
    // the bound is what passed, not the 150 ms asked for; the slack covers the monitor's last
    // tick before the busy-wait, which a descheduled process may have taken late).
    const passed = performance.now() - started;
    assert.ok(info.blockedMs >= THRESHOLD_MS, `blockedMs ${info.blockedMs} >= ${THRESHOLD_MS}`);
    assert.ok(info.blockedMs <= passed + THRESHOLD_MS, `blockedMs ${info.blockedMs} is not more than the ${passed} ms that passed`);
    assert.equal(info.thresholdMs, THRESHOLD_MS);
    assert.ok(info.at instanceof Date && info.at.getTime() >= before);
  } finally {
    monitor.stop();
  }
});

test('a quiet loop is not reported, though it waits longer than the threshold', async () => {
  // A threshold of 10 × the usual: a process descheduled on a loaded machine is late too, and
  // 50 ms of that is not rare there. The waits add up to more than the threshold: only a loop
  // held without a break counts. Absence needs time to pass.
  const { monitor, reports } = watch(10 * THRESHOLD_MS);
  for (let i = 0; i < 20; i++) await sleep(THRESHOLD_MS);
  monitor.stop();
  assert.deepEqual(reports, []);
});

test('stop() and disposal stop the monitor', async () => {
  const { monitor, reports } = watch();
  monitor.stop();
  monitor.stop(); // idempotent
  busyWait(3 * THRESHOLD_MS);
  await sleep(THRESHOLD_MS);

  const disposed = watch();
  disposed.monitor[Symbol.dispose](); // what `using monitor = monitorLoopBlocking()` does at block end
  busyWait(3 * THRESHOLD_MS);
  await sleep(THRESHOLD_MS);
  assert.deepEqual([...reports, ...disposed.reports], []);
});

test('by default a block is reported as a process warning with a stable code', { timeout: 10_000 }, async () => {
  const monitor = monitorLoopBlocking({ thresholdMs: THRESHOLD_MS });
  try {
    const warned = once(process, 'warning');
    busyWait(3 * THRESHOLD_MS);
    const [warning] = await keptAlive(warned);
    assert.equal(warning.code, LOOP_BLOCKED_WARNING);
    assert.equal(warning.code, 'THREADLOOP_LOOP_BLOCKED');
    assert.match(warning.message, /the event loop was blocked for \d+ ms \(threshold 50 ms\)/);
  } finally {
    monitor.stop();
  }
});

test('the monitor never keeps the process alive', async () => {
  const script = "import('threadloop').then(({ monitorLoopBlocking }) => monitorLoopBlocking({ thresholdMs: 5 }))";
  // A process kept alive would never exit: the bound only ends the wait (a loaded machine may take seconds to start one).
  await promisify(execFile)(process.execPath, ['-e', script], { cwd: new URL('..', import.meta.url), timeout: 30_000 });
});

test('bad options are rejected with a typed error naming the option', () => {
  assert.throws(() => monitorLoopBlocking(null), { name: 'TypeError', message: /options must be an object/ });
  assert.throws(() => monitorLoopBlocking({ thresholdMs: '100' }), { name: 'TypeError', message: /thresholdMs/ });
  assert.throws(() => monitorLoopBlocking({ thresholdMs: Number.NaN }), { name: 'TypeError', message: /thresholdMs/ });
  for (const thresholdMs of [0, -5, Infinity]) {
    assert.throws(() => monitorLoopBlocking({ thresholdMs }), { name: 'RangeError', message: /thresholdMs/ });
  }
  assert.throws(() => monitorLoopBlocking({ onBlocked: 'log' }), { name: 'TypeError', message: /onBlocked/ });
  monitorLoopBlocking().stop(); // the defaults are valid
});
