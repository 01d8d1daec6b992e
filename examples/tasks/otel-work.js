// Tasks for examples/opentelemetry.js: each starts a span of its own, wherever it runs.
import { mainLoop, taskModule } from 'threadloop/task';
import { describeSpan, exporter, inTaskSpan } from './otel-tracing.js';

const self = taskModule(new URL(import.meta.url));

/** Some work, in a span; returns who that span is (it ends on this thread, in this thread's exporter). */
export async function thumbnail(width) {
  await inTaskSpan(`thumbnail ${width}`, async (span) => {
    span.setAttribute('image.width', width);
    await new Promise((resolve) => setTimeout(resolve, 5));
  });
  return describeSpan(exporter.getFinishedSpans().at(-1));
}

/** Work that calls back into the main thread: the span there is a child of this task's span. */
export async function thumbnailWithLookup(width) {
  let lookedUp;
  await inTaskSpan(`thumbnail ${width} with lookup`, async () => {
    lookedUp = await mainLoop().submit(self.lookup, width);
  });
  return { task: describeSpan(exporter.getFinishedSpans().at(-1)), lookedUp };
}

/** Runs on the main thread, called back from a worker. */
export async function lookup(width) {
  await inTaskSpan(`lookup ${width}`, () => {});
  return describeSpan(exporter.getFinishedSpans().at(-1));
}
