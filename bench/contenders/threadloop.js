// threadloop adapter: a ThreadPoolExecutor running the module tasks of tasks/threadloop.js.
// `context: true` submits each call inside a ContextVar.run; `tracing: true` subscribes no-op
// handlers to the 'threadloop:task' tracing channel: what each costs once it is used.
import diagnostics_channel from 'node:diagnostics_channel';
import { ContextVar, ThreadPoolExecutor, taskModule } from 'threadloop';

const TASK_NAMES = ['noop', 'fib', 'echo', 'echoMove', 'count', 'blockOnMain'];

export function create({ workers, options: { context = false, tracing = false, ...options } = {} }) {
  const module = taskModule(new URL('../tasks/threadloop.js', import.meta.url));
  // Resolve each Task once, as an application would, so the hot path only submits.
  const tasks = Object.fromEntries(TASK_NAMES.map((name) => [name, module[name]]));
  const executor = new ThreadPoolExecutor({ maxWorkers: workers, minWorkers: workers, ...options });
  const channel = diagnostics_channel.tracingChannel('threadloop:task');
  const handlers = { start() {}, end() {}, asyncStart() {}, asyncEnd() {}, error() {} };
  if (tracing) channel.subscribe(handlers);
  const requestId = new ContextVar('requestId');
  const submit = (name, arg, transfer) => executor.submit(transfer ? tasks[name].with({ transfer }) : tasks[name], arg);
  return {
    run: context ? (name, arg, transfer) => requestId.run('req-1', () => submit(name, arg, transfer)) : submit,
    runSync: (name, arg) => executor.submit(tasks[name], arg).resultSync(),
    /** A worker blocking on calls into this thread's loop; resolves to its latency percentiles. */
    syncFromWorker: ({ warmup, warmupMs, calls }) => executor.submit(tasks.blockOnMain, warmup, warmupMs, calls),
    /** Streams `count(n)` and resolves with how many chunks arrived. */
    async drainStream(n) {
      let received = 0;
      for await (const chunk of executor.stream(tasks.count, n)) received += chunk === received ? 1 : 0;
      return received;
    },
    close: () => {
      if (tracing) channel.unsubscribe(handlers);
      return executor.shutdown();
    },
  };
}
