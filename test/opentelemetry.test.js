// OpenTelemetry through threadloop's context and tracing (issue 16): a span started around a
// submit with @opentelemetry/api is the parent of a span the task starts on the other thread —
// a worker thread, a child process, a loop thread — and of one started on the main thread in a
// mainLoop() call back. The bridge is examples/tasks/otel-tracing.js (W3C trace context carried
// by shareContext, injected from the 'threadloop:task' channel); threadloop has no OTel code.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { taskModule } from 'threadloop';
import { describeSpan, exporter, tracer } from '../examples/tasks/otel-tracing.js';
import { targets } from './helpers/targets.js';

const work = taskModule(new URL('../examples/tasks/otel-work.js', import.meta.url));

/** Runs `fn` in a new span on this thread; returns what it returned and who the span is. */
async function inSpan(name, fn) {
  return tracer.startActiveSpan(name, async (span) => {
    try {
      return { value: await fn(), parent: describeSpan(span) };
    } finally {
      span.end();
    }
  });
}

for (const [kind, start, stop] of targets) {
  describe(`OpenTelemetry on a ${kind}`, () => {
    let target;
    before(async () => {
      target = await start();
    });
    after(() => stop(target));

    test('the span around submit is the parent of the span the task starts', async () => {
      const { value: child, parent } = await inSpan('submit', () => target.submit(work.thumbnail, 10));
      assert.equal(child.name, 'thumbnail 10');
      assert.equal(child.traceId, parent.traceId);
      assert.equal(child.parentSpanId, parent.spanId);
      assert.notEqual(child.spanId, parent.spanId);
    });

    test("and the task's span is the parent of a span on the main thread in its mainLoop() call", async () => {
      const { value, parent } = await inSpan('submit', () => target.submit(work.thumbnailWithLookup, 20));
      assert.equal(value.task.parentSpanId, parent.spanId);
      assert.equal(value.lookedUp.traceId, parent.traceId);
      assert.equal(value.lookedUp.parentSpanId, value.task.spanId);
      assert.ok(exporter.getFinishedSpans().some((s) => s.name === 'lookup 20')); // ended here, on the main thread
    });

    test('a task submitted outside any span starts a trace of its own', async () => {
      const span = await target.submit(work.thumbnail, 30);
      assert.equal(span.parentSpanId, undefined);
    });
  });
}
