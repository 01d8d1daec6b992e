// OpenTelemetry set up for one thread — the main thread and every worker that loads a task module
// importing this file — plus the one bridge threadloop needs: the W3C trace context of the code
// that submits a task travels with it, so a span started inside the task on another thread is a
// child of the span around the submit. threadloop itself knows nothing of OpenTelemetry: the
// bridge is its 'threadloop:task' tracing channel and shareContext().
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics_channel from 'node:diagnostics_channel';
import { ROOT_CONTEXT, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { shareContext } from 'threadloop/task';

// In a real service: an OTLP exporter. Here spans are kept in memory, per thread.
export const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());

export const tracer = trace.getTracer('threadloop-example');

// The carrier ({ traceparent, tracestate }) travels with every call, as a shared context.
const carrier = new AsyncLocalStorage();
shareContext(carrier, 'w3c-trace-context');

// At each submit, the active span is injected into the carrier: the 'call' side's start event
// runs the submit inside the store this returns. On the running side the carrier arrived already.
diagnostics_channel.tracingChannel('threadloop:task').start.bindStore(carrier, (ctx) => {
  if (ctx.side !== 'call') return carrier.getStore();
  const headers = {};
  propagation.inject(context.active(), headers);
  return headers;
});

/** The OpenTelemetry context of the code that submitted the running task: the parent for its spans. */
export function submitterContext() {
  return propagation.extract(ROOT_CONTEXT, carrier.getStore() ?? {});
}

/** Runs `fn(span)` in a span that is a child of the submitter's span. */
export function inTaskSpan(name, fn) {
  return tracer.startActiveSpan(name, {}, submitterContext(), async (span) => {
    try {
      return await fn(span);
    } finally {
      span.end();
    }
  });
}

/** Who a finished span is: its trace, its id, and its parent's id. */
export function describeSpan(span) {
  return { name: span.name, traceId: span.spanContext().traceId, spanId: span.spanContext().spanId, parentSpanId: span.parentSpanContext?.spanId };
}
