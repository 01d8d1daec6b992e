// threadloop adapter: a ThreadPoolExecutor running the module tasks of tasks/threadloop.js.
import { ThreadPoolExecutor, taskModule } from 'threadloop';

const TASK_NAMES = ['noop', 'fib', 'echo', 'echoMove'];

export function create({ workers, options }) {
  const module = taskModule(new URL('../tasks/threadloop.js', import.meta.url));
  // Resolve each Task once, as an application would, so the hot path only submits.
  const tasks = Object.fromEntries(TASK_NAMES.map((name) => [name, module[name]]));
  const executor = new ThreadPoolExecutor({ maxWorkers: workers, minWorkers: workers, ...options });
  return {
    run: (name, arg, transfer) =>
      executor.submit(transfer ? tasks[name].with({ transfer }) : tasks[name], arg),
    runSync: (name, arg) => executor.submit(tasks[name], arg).resultSync(),
    close: () => executor.shutdown(),
  };
}
