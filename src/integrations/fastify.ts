/**
 * `threadloop/fastify`: Starlette's `run_in_threadpool` for Fastify.
 *
 * The plugin gives every request `request.runInThreadpool(task, ...args)` and the server
 * `fastify.threadloop` (the executor). It takes care of what a web server needs around a pool:
 *
 * - a client that disconnects aborts the tasks its request started (their `currentTask().signal`
 *   fires; a task that ignores it is stopped with its worker after the executor's `abortGraceMs`);
 * - a full queue answers 503 Service Unavailable with `Retry-After` instead of queueing without
 *   bound;
 * - `fastify.close()` shuts down the executor the plugin created, after running tasks finish;
 * - `fastify.threadloop.stats()` (and the opt-in `statsRoute`) for health checks.
 *
 * Fastify is an optional peer dependency: this module imports only its types, and wraps the
 * plugin the way `fastify-plugin` does (so the decorators reach the scope that registers it, not
 * only the plugin's own) without needing that package.
 *
 * @example
 * import Fastify from 'fastify';
 * import threadloop from 'threadloop/fastify';
 *
 * const app = Fastify();
 * await app.register(threadloop, { maxWorkers: 4 });
 * app.get('/hash', (request) => request.runInThreadpool(hashing.pbkdf2, 'secret'));
 *
 * @module threadloop/fastify
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { availableParallelism } from 'node:os';
import { toTask, type AnyFunction, type Runnable, type Task } from '../core/task.js';
import { QueueFullError } from '../wire/errors.js';
import type { Executor, ThreadPoolOptions } from '../core/executor.js';
import { describe } from '../core/future.js';
import { ThreadPoolExecutor } from '../api/thread-pool.js';

/** Options of the plugin: the pool's own options, or an executor of yours. */
export interface ThreadloopFastifyOptions extends ThreadPoolOptions {
  /**
   * Run tasks on this executor instead of one the plugin creates. The plugin does not shut it
   * down, and its `maxQueue` decides when requests get 503 (none, if it is unbounded). Pool
   * options cannot be combined with it.
   */
  executor?: Executor | undefined;
  /** The `Retry-After` header, in seconds, of a 503 answered for a full queue. Default 1. */
  retryAfterSeconds?: number | undefined;
  /** Serve `fastify.threadloop.stats()` as JSON at this path (e.g. `'/threadloop/stats'`). Off by default. */
  statsRoute?: string | undefined;
}

/** How many tasks an owned executor queues per worker before answering 503. */
export const DEFAULT_QUEUE_PER_WORKER = 64;

/**
 * Thrown by `request.runInThreadpool` when the executor's queue is full. It is a
 * `QueueFullError` that Fastify's error handling answers as 503 with a `Retry-After` header
 * (`statusCode` and `headers`, the convention of `@fastify/error` and `http-errors`).
 */
export class ThreadpoolBusyError extends QueueFullError {
  readonly statusCode = 503;
  readonly headers: Readonly<Record<string, string>>;

  constructor(message: string, retryAfterSeconds: number, options?: ErrorOptions) {
    super(message, options);
    this.headers = { 'retry-after': String(retryAfterSeconds) };
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Runs `task(...args)` on the plugin's thread pool and resolves to its result. The task is
     * aborted if the client disconnects first; a full queue rejects with `ThreadpoolBusyError`
     * (answered 503). Needs the `threadloop/fastify` plugin.
     *
     * @example
     * app.get('/hash', async (request) => ({ hash: await request.runInThreadpool(crypto.hash, 'secret') }));
     */
    runInThreadpool<F extends AnyFunction>(task: Runnable<F>, ...args: Parameters<F>): Promise<Awaited<ReturnType<F>>>;
  }
  interface FastifyInstance {
    /** The executor behind `request.runInThreadpool` (its `stats()` suit a health route). */
    readonly threadloop: Executor;
  }
}

/**
 * The Fastify plugin. Register it once, at the root to serve the whole app: like a plugin wrapped
 * in `fastify-plugin`, it decorates the scope that registers it.
 *
 * @example
 * import Fastify from 'fastify';
 * import threadloop from 'threadloop/fastify';
 * import { taskModule } from 'threadloop';
 *
 * const images = taskModule<typeof import('./images.js')>(new URL('./images.js', import.meta.url));
 * const app = Fastify();
 * await app.register(threadloop, { maxWorkers: 4, statsRoute: '/threadloop/stats' });
 * app.post('/thumbnail', async (request, reply) => {
 *   const png = await request.runInThreadpool(images.thumbnail, request.body as Buffer, 128);
 *   return reply.type('image/png').send(Buffer.from(png));
 * });
 * await app.listen({ port: 3000 });
 */
export const threadloopPlugin: FastifyPluginAsync<ThreadloopFastifyOptions> = async (fastify, options) => {
  const { executor, owned, retryAfterSeconds, statsRoute } = setUp(options);

  fastify.decorate('threadloop', executor);
  fastify.decorateRequest('runInThreadpool', function runInThreadpool<F extends AnyFunction>(
    this: FastifyRequest,
    task: Runnable<F>,
    ...args: Parameters<F>
  ): Promise<Awaited<ReturnType<F>>> {
    return runForRequest(this, executor, retryAfterSeconds, toTask(task), args);
  });
  if (owned) fastify.addHook('onClose', () => executor.shutdown());
  if (statsRoute !== undefined) fastify.get(statsRoute, async () => executor.stats());
};

// What `fastify-plugin` does: no encapsulation (the decorators reach the registering scope), a name.
Object.assign(threadloopPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'threadloop',
  [Symbol.for('plugin-meta')]: { name: 'threadloop', fastify: '>=4' },
});

export default threadloopPlugin;

// ── running a request's task ─────────────────────────────────────────────────────────────────

async function runForRequest<F extends AnyFunction>(
  request: FastifyRequest,
  executor: Executor,
  retryAfterSeconds: number,
  task: Task<F>,
  args: Parameters<F>,
): Promise<Awaited<ReturnType<F>>> {
  const signal = anySignal(task.options.signal, disconnectSignal(request));
  try {
    return await executor.submit(task.with({ signal }), ...args);
  } catch (error) {
    if (error instanceof QueueFullError && !(error instanceof ThreadpoolBusyError)) {
      throw new ThreadpoolBusyError(`server busy: ${error.message}`, retryAfterSeconds, { cause: error });
    }
    throw error;
  }
}

const disconnectSignals = new WeakMap<FastifyRequest, AbortSignal>();

/**
 * A signal that aborts if the client goes away before the response is complete. The request's
 * `close` event fires both then and after a normal response; `aborted` tells them apart (it is
 * what Fastify's own `onRequestAbort` hook checks).
 */
function disconnectSignal(request: FastifyRequest): AbortSignal {
  let signal = disconnectSignals.get(request);
  if (signal !== undefined) return signal;
  const controller = new AbortController();
  signal = controller.signal;
  disconnectSignals.set(request, signal);
  const raw = request.raw;
  const check = (): void => {
    if (raw.aborted) controller.abort(new Error(`the client disconnected (${request.method} ${request.url})`));
  };
  if (raw.destroyed) check();
  else raw.once('close', check);
  return signal;
}

/** A signal that aborts when either does (`AbortSignal.any` where Node has it, 20.3+). */
function anySignal(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  if (a === undefined) return b;
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([a, b]);
  const controller = new AbortController();
  const sources = [a, b];
  const onAbort = (event: Event): void => {
    for (const s of sources) s.removeEventListener('abort', onAbort);
    controller.abort((event.target as AbortSignal).reason);
  };
  const already = sources.find((s) => s.aborted);
  if (already !== undefined) controller.abort(already.reason);
  else for (const s of sources) s.addEventListener('abort', onAbort, { once: true });
  return controller.signal;
}

// ── options ──────────────────────────────────────────────────────────────────────────────────

interface SetUp {
  executor: Executor;
  owned: boolean;
  retryAfterSeconds: number;
  statsRoute: string | undefined;
}

/** Fastify's own registration options, which it hands to the plugin too. */
const registrationKeys = ['prefix', 'logLevel', 'logSerializers'];

function setUp(options: ThreadloopFastifyOptions): SetUp {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`threadloop/fastify: options must be an object, got ${describe(options)}`);
  }
  const { executor, retryAfterSeconds = 1, statsRoute, ...rest } = options;
  const poolOptions: ThreadPoolOptions = Object.fromEntries(
    Object.entries(rest).filter(([key]) => !registrationKeys.includes(key)),
  );
  if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0) {
    throw new RangeError(`threadloop/fastify: retryAfterSeconds must be an integer >= 0, got ${describe(retryAfterSeconds)}`);
  }
  if (statsRoute !== undefined && (typeof statsRoute !== 'string' || !statsRoute.startsWith('/'))) {
    throw new TypeError(`threadloop/fastify: statsRoute must be a path starting with '/', got ${describe(statsRoute)}`);
  }
  if (executor !== undefined) {
    if (typeof executor !== 'object' || executor === null || typeof executor.submit !== 'function') {
      throw new TypeError(`threadloop/fastify: executor must be an Executor, got ${describe(executor)}`);
    }
    const extra = Object.keys(poolOptions);
    if (extra.length > 0) {
      throw new TypeError(`threadloop/fastify: pass either executor or pool options (${extra.join(', ')}), not both`);
    }
    return { executor, owned: false, retryAfterSeconds, statsRoute };
  }
  const maxWorkers = poolOptions.maxWorkers ?? availableParallelism();
  const maxQueue = poolOptions.maxQueue ?? (Number.isInteger(maxWorkers) ? maxWorkers * DEFAULT_QUEUE_PER_WORKER : undefined);
  const owned = new ThreadPoolExecutor({ name: 'threadloop-fastify', ...poolOptions, maxQueue });
  return { executor: owned, owned: true, retryAfterSeconds, statsRoute };
}
