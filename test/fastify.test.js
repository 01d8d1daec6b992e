// threadloop/fastify against a real Fastify server on 127.0.0.1 and real HTTP requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import { threadId as mainThreadId } from 'node:worker_threads';
import Fastify from 'fastify';
import threadloop, { ThreadpoolBusyError } from 'threadloop/fastify';
import { ExecutorShutdownError, QueueFullError, ThreadPoolExecutor, taskModule } from 'threadloop';

const tasks = taskModule(new URL('./fixtures/web-tasks.js', import.meta.url));

/**
 * A Fastify app with the plugin registered and `routes` added, listening on a free port.
 * (`forceCloseConnections`: a connection whose client aborted otherwise holds close() for ~4 s.)
 */
async function start(t, pluginOptions, routes = () => {}) {
  const app = Fastify({ forceCloseConnections: true });
  await app.register(threadloop, pluginOptions);
  routes(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => app.close());
  return { app, base: `http://127.0.0.1:${app.server.address().port}` };
}

/** Flags shared with the tasks of fixtures/web-tasks.js; cleanup ends a task still waiting. */
function flags(t) {
  const shared = new Int32Array(new SharedArrayBuffer(12));
  t.after(() => {
    for (const i of [0, 2]) {
      Atomics.store(shared, i, 1);
      Atomics.notify(shared, i);
    }
  });
  return shared;
}

/** GET without keep-alive, so that the server can close once the response is sent. */
function getOnce(url) {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode, body }));
    }).on('error', reject);
  });
}

/** Resolves when the worker has set flags[index] (at once if it already has); fails after 5 s. */
async function until(flagArray, index) {
  const outcome = await Atomics.waitAsync(flagArray, index, 0, 5_000).value;
  assert.notEqual(outcome, 'timed-out', `the worker did not set flags[${index}] within 5 s`);
}

test('request.runInThreadpool runs the task on a worker thread and returns its result', { timeout: 20_000 }, async (t) => {
  const { base } = await start(t, { maxWorkers: 2 }, (app) => {
    app.get('/add', async (request) => request.runInThreadpool(tasks.add, Number(request.query.a), Number(request.query.b)));
    app.get('/inline', async (request) => ({ upper: await request.runInThreadpool((s) => s.toUpperCase(), 'seed 002') }));
  });
  const response = await fetch(`${base}/add?a=2&b=3`);
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(body.sum, 5);
  assert.notEqual(body.threadId, mainThreadId, 'the task ran on another thread');
  assert.deepEqual(await (await fetch(`${base}/inline`)).json(), { upper: 'SEED 002' });
});

test('a full queue answers 503 with Retry-After instead of queueing without bound', { timeout: 20_000 }, async (t) => {
  const gate = flags(t);
  const submitted = new EventEmitter();
  const { base } = await start(t, { maxWorkers: 1, maxQueue: 1, retryAfterSeconds: 7 }, (app) => {
    app.get('/block', async (request) => {
      const result = request.runInThreadpool(tasks.block, gate);
      submitted.emit('submitted');
      return { result: await result };
    });
  });
  const first = fetch(`${base}/block`); // runs, and holds the only worker
  await until(gate, 1);
  const queued = once(submitted, 'submitted');
  const second = fetch(`${base}/block`); // waits in the queue (maxQueue 1)
  await queued;
  const third = await fetch(`${base}/block`); // no room
  assert.equal(third.status, 503);
  assert.equal(third.headers.get('retry-after'), '7');
  const body = await third.json();
  assert.equal(body.code, 'ERR_QUEUE_FULL');
  assert.match(body.message, /maxQueue 1/);

  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  for (const response of await Promise.all([first, second])) {
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { result: 'released' });
  }
});

test('ThreadpoolBusyError is a QueueFullError carrying the 503 and its header', { timeout: 20_000 }, () => {
  const error = new ThreadpoolBusyError('busy', 3);
  assert.ok(error instanceof QueueFullError);
  assert.equal(error.code, 'ERR_QUEUE_FULL');
  assert.equal(error.statusCode, 503);
  assert.deepEqual(error.headers, { 'retry-after': '3' });
});

test('a client that disconnects aborts its task: currentTask().signal fires in the worker', { timeout: 20_000 }, async (t) => {
  const report = flags(t);
  const settled = new EventEmitter();
  const { app, base } = await start(t, { maxWorkers: 1 }, (app) => {
    app.get('/slow', async (request) => {
      try {
        return await request.runInThreadpool(tasks.untilAborted, report);
      } catch (error) {
        settled.emit('error', error);
        throw error;
      }
    });
  });
  const client = new AbortController();
  const response = fetch(`${base}/slow`, { signal: client.signal });
  await until(report, 1); // the task is running and listening to its signal
  const handlerError = once(settled, 'error');
  client.abort();
  await assert.rejects(response, { name: 'AbortError' });
  await until(report, 0); // the worker saw its signal abort
  const [error] = await handlerError;
  assert.equal(error.code, 'ERR_ABORTED');
  assert.match(String(error.cause?.message), /client disconnected \(GET \/slow\)/);
  await app.threadloop.idle();
  assert.equal(app.threadloop.stats().failed, 1);
});

for (const merge of ['AbortSignal.any', 'the manual merge (Node < 20.3)']) {
  test(`the disconnect signal is merged with the task's own signal, by ${merge}`, { timeout: 20_000 }, async (t) => {
    if (merge !== 'AbortSignal.any') {
      const any = AbortSignal.any;
      AbortSignal.any = undefined;
      t.after(() => (AbortSignal.any = any));
    }
    const report = flags(t);
    const own = new AbortController();
    const { base } = await start(t, { maxWorkers: 1 }, (app) => {
      app.get('/own', async (request) => {
        try {
          return await request.runInThreadpool(tasks.untilAborted.with({ signal: own.signal }), report);
        } catch (error) {
          return { aborted: error.code, reason: error.cause };
        }
      });
    });
    const response = fetch(`${base}/own`);
    await until(report, 1);
    own.abort('stop it');
    assert.deepEqual(await (await response).json(), { aborted: 'ERR_ABORTED', reason: 'stop it' });
    assert.equal(Atomics.load(report, 0), 1, 'the worker saw the abort');
  });
}

test('the opt-in stats route serves executor.stats()', { timeout: 20_000 }, async (t) => {
  const { app, base } = await start(t, { maxWorkers: 1, statsRoute: '/threadloop/stats' }, (app) => {
    app.get('/add', async (request) => request.runInThreadpool(tasks.add, 1, 1));
  });
  for (let i = 0; i < 3; i++) assert.equal((await (await fetch(`${base}/add`)).json()).sum, 2);
  const stats = await (await fetch(`${base}/threadloop/stats`)).json();
  assert.equal(stats.completed, 3);
  assert.equal(stats.failed, 0);
  assert.equal(stats.queued, 0);
  assert.deepEqual(stats, JSON.parse(JSON.stringify(app.threadloop.stats())));
});

test('fastify.close() shuts down the executor the plugin owns, after running tasks finish', { timeout: 20_000 }, async (t) => {
  const gate = flags(t);
  const app = Fastify();
  await app.register(threadloop, { maxWorkers: 1 });
  app.get('/block', async (request) => request.runInThreadpool(tasks.block, gate));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const response = getOnce(`http://127.0.0.1:${app.server.address().port}/block`);
  await until(gate, 1);
  const closed = app.close();
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  assert.deepEqual(await response, { status: 200, body: 'released' });
  await closed;
  assert.equal(app.threadloop.stats().workers, 0);
  assert.throws(() => app.threadloop.submit(tasks.add, 1, 2), ExecutorShutdownError);
});

test('an executor passed in is used, and left running by close()', { timeout: 20_000 }, async () => {
  const executor = new ThreadPoolExecutor({ maxWorkers: 1 });
  const app = Fastify();
  await app.register(threadloop, { executor });
  app.get('/add', async (request) => request.runInThreadpool(tasks.add, 20, 22));
  const response = await app.inject({ method: 'GET', url: '/add' });
  assert.equal(response.json().sum, 42);
  assert.equal(app.threadloop, executor);
  await app.close();
  assert.equal((await executor.submit(tasks.add, 1, 2)).sum, 3, 'still open');
  await executor.shutdown();
});

test('like fastify-plugin, it decorates the scope it is registered in, not only its own', { timeout: 20_000 }, async () => {
  const app = Fastify();
  await app.register(async (child) => {
    await child.register(threadloop, { maxWorkers: 1 });
    child.get('/add', async (request) => request.runInThreadpool(tasks.add, 1, 2));
  });
  app.get('/outside', async (request) => typeof request.runInThreadpool);
  assert.equal((await app.inject({ url: '/add' })).json().sum, 3);
  assert.equal((await app.inject({ url: '/outside' })).body, 'undefined', 'encapsulation is respected');
  await app.close();
});

test('bad options are rejected with a typed error naming the option', { timeout: 20_000 }, async () => {
  const cases = [
    [{ executor: {} }, TypeError, /executor must be an Executor/],
    [{ executor: new ThreadPoolExecutor({ maxWorkers: 1 }), maxWorkers: 2 }, TypeError, /either executor or pool options \(maxWorkers\)/],
    [{ retryAfterSeconds: -1 }, RangeError, /retryAfterSeconds/],
    [{ statsRoute: 'stats' }, TypeError, /statsRoute/],
    [{ maxWorkers: 0 }, RangeError, /maxWorkers/],
    [{ bogus: true }, TypeError, /unknown option 'bogus'/],
  ];
  for (const [options, type, message] of cases) {
    const app = Fastify();
    await assert.rejects(app.register(threadloop, options).ready(), (error) => {
      assert.ok(error instanceof type, `${JSON.stringify(Object.keys(options))}: ${error}`);
      assert.match(error.message, message);
      return true;
    });
    await options.executor?.shutdown?.();
  }
});
