// Tracing (issue 16): the TracingChannel 'threadloop:task' on the calling side and on the running
// side, on thread pools, process pools and loop threads, and across mainLoop().
import assert from 'node:assert/strict';
import diagnostics_channel from 'node:diagnostics_channel';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { taskModule } from 'threadloop';
import { rejectsWith } from './helpers/util.js';
import { targets } from './helpers/targets.js';

const fx = await import('./fixtures/beyond.js');
const tasks = taskModule(new URL('./fixtures/beyond.js', import.meta.url));
const channel = diagnostics_channel.tracingChannel('threadloop:task');

/** Subscribes to the channel on this thread while a test runs; `events` is what it saw. */
function recorder() {
  const events = [];
  const keep = (event) => (ctx) => events.push({ event, ctx, snapshot: { ...ctx }, requestId: fx.requestId.get() });
  const handlers = { start: keep('start'), end: keep('end'), asyncStart: keep('asyncStart'), asyncEnd: keep('asyncEnd'), error: keep('error') };
  return {
    events,
    on: () => channel.subscribe(handlers),
    off: () => channel.unsubscribe(handlers),
  };
}

for (const [kind, start, stop] of targets) {
  describe(`tracing on a ${kind}`, () => {
    let target;
    const rec = recorder();
    before(async () => {
      target = await start();
    });
    after(() => stop(target));
    beforeEach(() => {
      rec.events.length = 0;
      rec.on();
    });
    afterEach(() => rec.off());

    const owner = kind === 'loop thread' ? { loop: 'lt' } : { executor: kind === 'thread pool' ? 'tp' : 'pp' };

    test('the calling side publishes start, end, asyncStart, asyncEnd with names and times', async () => {
      const future = target.submit(tasks.slowAdd, 2, 3);
      assert.deepEqual(rec.events.map((e) => e.event), ['start', 'end']);
      assert.equal(rec.events[1].ctx.result, future);
      assert.equal(await future, 5);
      await null;
      const calls = rec.events.filter((e) => e.ctx.side === 'call');
      assert.deepEqual(calls.map((e) => e.event), ['start', 'end', 'asyncStart', 'asyncEnd']);
      const ctx = calls[3].ctx;
      assert.equal(calls[0].ctx, ctx); // one context object from start to asyncEnd
      assert.equal(ctx.task, 'slowAdd');
      assert.equal(typeof ctx.id, 'number');
      assert.ok(ctx.id > 0);
      for (const [key, value] of Object.entries(owner)) assert.equal(ctx[key], value);
      assert.equal(ctx.result, 5);
      assert.ok(ctx.queueWaitMs >= 0 && ctx.runTimeMs >= 0, `times ${ctx.queueWaitMs} ${ctx.runTimeMs}`);
      assert.equal(calls[0].snapshot.runTimeMs, undefined); // the times come at the end
    });

    test('a failed task publishes error before asyncStart', async () => {
      await rejectsWith(target.submit(tasks.fail, 'boom'), RangeError, /boom/);
      const calls = rec.events.filter((e) => e.ctx.side === 'call');
      assert.deepEqual(calls.map((e) => e.event), ['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
      assert.ok(calls[2].ctx.error instanceof RangeError);
    });

    test('the running side publishes around the task body, in the context that came with it', async () => {
      await target.submit(tasks.traceHere);
      await fx.requestId.run('traced-1', () => target.submit(tasks.slowAdd, 1, 1));
      const seen = (await target.submit(tasks.traced)).filter((e) => e.side === 'run' && e.task === 'slowAdd');
      assert.deepEqual(seen.map((e) => e.event), ['start', 'end', 'asyncStart', 'asyncEnd']);
      assert.equal(seen[0].requestId, 'traced-1'); // a subscriber's start sees the caller's context
      assert.equal(seen[0].thread, kind === 'loop thread' ? 'lt' : `${owner.executor}_0`);
      assert.ok(seen[3].runTimeMs >= 0);
    });

    test('across mainLoop(): the worker traces its call, the main thread the run', async () => {
      const workerSide = await fx.requestId.run('traced-2', () => target.submit(tasks.callMainTraced));
      const mainRun = rec.events.filter((e) => e.ctx.side === 'run' && e.ctx.task === 'readContext');
      assert.deepEqual(mainRun.map((e) => e.event), ['start', 'end']); // a sync task
      assert.equal(mainRun[0].ctx.thread, 'MainThread');
      assert.equal(mainRun[0].requestId, 'traced-2');
      const call = workerSide.filter((e) => e.side === 'call' && e.task === 'readContext');
      assert.deepEqual(call.map((e) => e.event), ['start', 'end', 'asyncStart', 'asyncEnd']);
      assert.equal(call[0].loop, 'main');
      assert.equal(call[0].id, mainRun[0].ctx.id); // the same call, seen from both ends
    });

    test('nothing is published once unsubscribed', async () => {
      rec.off();
      await target.submit(tasks.slowAdd, 1, 2);
      assert.deepEqual(rec.events, []);
      assert.equal(channel.hasSubscribers, false);
    });
  });
}
