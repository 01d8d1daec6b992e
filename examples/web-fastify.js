// seed 002 §3 — Starlette's run_in_threadpool in a FastAPI route:
//
//     @app.get("/test")
//     async def test():
//         result = await run_in_threadpool(blocking_io)
//         return {"result": result}
//
// With the threadloop/fastify plugin a Fastify handler does the same with
// `request.runInThreadpool(task, ...args)`. This example starts a server on a free port, calls it
// a few times, prints the answers, and closes it (which shuts the plugin's pool down).
import Fastify from 'fastify';
import { taskModule } from 'threadloop';
import threadloop from 'threadloop/fastify';

const blocking = taskModule(new URL('./tasks/blocking.js', import.meta.url));

const app = Fastify();
await app.register(threadloop, { maxWorkers: 4 }); // maxQueue defaults to 4 × 64: beyond it, 503

app.get('/test', async (request) => ({ result: await request.runInThreadpool(blocking.blockingIo) }));
// Arguments follow the task, as in run_in_threadpool(func, *args).
app.get('/job/:name', async (request) => request.runInThreadpool(blocking.job, request.params.name, 200));
app.get('/health', async () => ({ ok: true, completed: app.threadloop.stats().completed }));

await app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${app.server.address().port}`;
const get = async (path) => (await fetch(base + path)).json();

// One blocking request, and /health while it blocks a worker (not the event loop).
const test = get('/test');
const healthStarted = performance.now();
const health = await get('/health');
const healthMs = performance.now() - healthStarted;
console.log(`GET /test -> ${JSON.stringify(await test)}`);
console.log(`GET /health -> ok=${health.ok}, answered in ${healthMs < 50 ? 'under 50' : Math.round(healthMs)} ms while /test was blocking`);

// Three blocking requests of 200 ms at once: they run side by side on the pool.
const started = performance.now();
const jobs = await Promise.all(['a', 'b', 'c'].map((name) => get(`/job/${name}`)));
const elapsed = performance.now() - started;
for (const job of jobs) console.log(`GET /job/${job.name} -> blocked ~${Math.round(job.ms / 100) * 100} ms`);
console.log(`3 requests of 200 ms answered in ${Math.round(elapsed)} ms (${elapsed < 500 ? 'in parallel' : 'one after another'})`);
console.log(`pool stats: completed=${app.threadloop.stats().completed} failed=${app.threadloop.stats().failed}`);

await app.close(); // the onClose hook shuts the pool down after its running tasks
console.log(`server closed; pool workers left: ${app.threadloop.stats().workers}`);
