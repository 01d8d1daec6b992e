// OpenTelemetry across threads: a span started around a submit is the parent of the span the
// task starts on a worker thread, a child process or a loop thread — and of one started on the
// main thread when the task calls back with mainLoop(). No OpenTelemetry code in threadloop:
// examples/tasks/otel-tracing.js bridges the two with the 'threadloop:task' tracing channel and
// shareContext() (W3C trace context). Python has no equivalent for threads (contextvars are
// copied into asyncio.to_thread, but OpenTelemetry's context must be attached by hand).
import { ProcessPoolExecutor, ThreadPoolExecutor, startLoopThread, taskModule } from 'threadloop';
import { describeSpan, exporter, tracer } from './tasks/otel-tracing.js';

const work = taskModule(new URL('./tasks/otel-work.js', import.meta.url));
const threads = new ThreadPoolExecutor({ maxWorkers: 2 });
const processes = new ProcessPoolExecutor({ maxWorkers: 1 });
const loop = await startLoopThread({ name: 'images' });

const { request, onThread, onProcess, onLoop, withLookup } = await tracer.startActiveSpan('GET /thumbnails', async (span) => {
  const results = {
    onThread: await threads.submit(work.thumbnail, 640),
    onProcess: await processes.submit(work.thumbnail, 320),
    onLoop: await loop.submit(work.thumbnail, 160),
    withLookup: await threads.submit(work.thumbnailWithLookup, 80),
  };
  span.end();
  return { request: describeSpan(span), ...results };
});

const isChild = (child, parent) => (child.traceId === parent.traceId && child.parentSpanId === parent.spanId ? 'yes' : 'NO');
console.log(`request span: ${request.name} (trace ${request.traceId})`);
console.log(`worker thread span '${onThread.name}' is a child of the request span: ${isChild(onThread, request)}`);
console.log(`child process span '${onProcess.name}' is a child of the request span: ${isChild(onProcess, request)}`);
console.log(`loop thread span '${onLoop.name}' is a child of the request span: ${isChild(onLoop, request)}`);
console.log(`main thread span '${withLookup.lookedUp.name}' (called back) is a child of the task's span: ${isChild(withLookup.lookedUp, withLookup.task)}`);
console.log(`spans ended on the main thread: ${exporter.getFinishedSpans().map((s) => s.name).join(', ')}`);

await Promise.all([threads.shutdown(), processes.shutdown(), loop.stop()]);
