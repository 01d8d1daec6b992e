// Streamed results (issue 16): executor.stream / loop.stream over async generators, with credit
// backpressure, return() on break, errors with fidelity, move() per chunk and crashes — on thread
// pools, process pools and loop threads.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { AbortError, TaskStream, WorkerCrashedError, startLoopThread, taskModule } from 'threadloop';
import { rejectsWith } from './helpers/util.js';
import { targets } from './helpers/targets.js';

const fx = await import('./fixtures/beyond.js');
const tasks = taskModule(new URL('./fixtures/beyond.js', import.meta.url));

async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

for (const [kind, start, stop] of targets) {
  describe(`streams on a ${kind}`, () => {
    let target;
    before(async () => {
      target = await start();
    });
    after(() => stop(target));
    beforeEach(() => fx.resetNotes());

    test('yields the chunks of an async generator, in order, then ends', async () => {
      const stream = target.stream(tasks.count, 40);
      assert.ok(stream instanceof TaskStream);
      assert.deepEqual(await collect(stream), Array.from({ length: 40 }, (_, i) => i));
      assert.equal(await stream.future, 'counted'); // the generator's return value
      assert.deepEqual(await stream.next(), { value: undefined, done: true });
    });

    test('also streams a task that returns a plain iterable', async () => {
      assert.deepEqual(await collect(target.stream(tasks.plainIterable, 3)), [0, 10, 20]);
    });

    test('breaking out runs the generator\'s finally over there, with its signal aborted, and frees it', async () => {
      let taken = 0;
      for await (const chunk of target.stream(tasks.endless.with({ highWaterMark: 4 }), 'brk')) {
        assert.equal(chunk, taken);
        if (++taken === 3) break;
      }
      // return() waited for the generator to stop: its finally has reported already.
      assert.equal(fx.notes.length, 1);
      const [, after] = /finally after (\d+), signal aborted: true/.exec(fx.notes[0]) ?? assert.fail(fx.notes[0]);
      // At most highWaterMark beyond what was taken (credit goes back in batches, so fewer).
      assert.ok(Number(after) >= 3 && Number(after) <= 3 + 4, `produced ${after} with highWaterMark 4`);
      assert.equal(await target.submit(tasks.echo, 'free'), 'free');
    });

    test('the producer never runs more than highWaterMark chunks ahead of the consumer', async () => {
      const highWaterMark = 4;
      for await (const chunk of target.stream(tasks.ahead.with({ highWaterMark }), 30)) {
        fx.take(); // first thing: the producer may ask how many were taken
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(typeof chunk, 'number');
      }
      const [, most] = /most ahead: (\d+)/.exec(fx.notes[0]) ?? assert.fail(String(fx.notes));
      assert.ok(Number(most) <= highWaterMark - 1, `ran ${most} chunks ahead`);
    });

    test('an error mid-stream arrives after the chunks before it, with its class, cause and properties', async () => {
      const chunks = [];
      const error = await rejectsWith((async () => {
        for await (const chunk of target.stream(tasks.failAfter, 2)) chunks.push(chunk);
      })(), RangeError, /chunk out of range/);
      assert.deepEqual(chunks, [0, 1]);
      assert.equal(error.chunkIndex, 2);
      assert.equal(error.cause.message, 'the cause');
    });

    test('move() moves a chunk instead of copying it', async () => {
      const [bytes, leftBehind] = await collect(target.stream(tasks.moved));
      assert.deepEqual([...bytes], [1, 2, 3]);
      if (kind !== 'process pool') assert.equal(leftBehind, 0); // a child process can only copy
    });

    test('aborting its signal stops the stream with AbortError and runs its finally', async () => {
      const controller = new AbortController();
      const chunks = [];
      await rejectsWith((async () => {
        for await (const chunk of target.stream(tasks.endless.with({ signal: controller.signal, highWaterMark: 2 }), 'sig')) {
          chunks.push(chunk);
          if (chunks.length === 2) controller.abort(new Error('enough'));
        }
      })(), AbortError);
      assert.deepEqual(chunks.slice(0, 2), [0, 1]);
      assert.match(fx.notes.join(), /sig: finally after \d+, signal aborted: true/);
    });

    test('the caller\'s context is in force in the generator, across its awaits', async () => {
      const chunks = await fx.requestId.run('streamed', () => fx.logStore.run('log-s', () => collect(target.stream(tasks.contextStream))));
      assert.deepEqual(chunks, ['streamed', 'log-s']);
    });

    test('a task that returns no iterable fails with TypeError', async () => {
      await rejectsWith(collect(target.stream(tasks.echo, 42)), TypeError, /returned 42/);
    });

    test('a task consumes a stream produced on the main thread (mainLoop().stream)', async () => {
      assert.deepEqual(await target.submit(tasks.streamFromMain, 20), Array.from({ length: 20 }, (_, i) => i));
    });

    test('a bad highWaterMark is refused at once', () => {
      assert.throws(() => tasks.count.with({ highWaterMark: 0 }), RangeError);
    });
  });
}

describe('a crash fails the stream with WorkerCrashedError', () => {
  for (const [kind, start, stop] of targets) {
    test(`on a ${kind}`, async () => {
      const target = await start();
      try {
        const chunks = [];
        await rejectsWith((async () => {
          for await (const chunk of target.stream(tasks.crashAfter, 2)) chunks.push(chunk);
        })(), WorkerCrashedError);
        assert.deepEqual(chunks, [0, 1]);
        if (kind !== 'loop thread') assert.deepEqual(await collect(target.stream(tasks.count, 2)), [0, 1]); // replaced
      } finally {
        await stop(target);
      }
    });
  }
});

describe('stream consumers', () => {
  let loop;
  before(async () => {
    loop = await startLoopThread({ name: 'consumer-loop' });
  });
  after(() => loop.stop());

  test('return() before the first chunk stops the stream; next() is then done', async () => {
    const stream = loop.stream(tasks.endless, 'early');
    assert.deepEqual(await stream.return(), { value: undefined, done: true });
    assert.deepEqual(await stream.next(), { value: undefined, done: true });
  });

  test('two streams on one loop thread interleave', async () => {
    const [a, b] = await Promise.all([collect(loop.stream(tasks.count, 20)), collect(loop.stream(tasks.plainIterable, 5))]);
    assert.equal(a.length, 20);
    assert.deepEqual(b, [0, 10, 20, 30, 40]);
  });
});
