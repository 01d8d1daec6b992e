// The demo's server, run by demo/main.js in a child process: `node demo/server.js <mode>`.
// GET /hash hashes a password — inline (blocking the event loop), with toThread(), or with the
// threadloop/fastify plugin — and GET /health answers at once. The parent drives the load and
// asks, over IPC, for the event-loop delay measured here while it ran.
import Fastify from 'fastify';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { monitorLoopBlocking, taskModule, toThread } from 'threadloop';
import threadloop from 'threadloop/fastify';
import { hashPassword } from './work.js';

const mode = process.argv[2];
const work = taskModule(new URL('./work.js', import.meta.url));

const hashers = {
  inline: (request) => hashPassword(request.query.password),
  toThread: (request) => toThread(work.hashPassword, request.query.password),
  plugin: (request) => request.runInThreadpool(work.hashPassword, request.query.password),
};
const hash = hashers[mode];
if (hash === undefined) throw new TypeError(`mode must be one of ${Object.keys(hashers).join(', ')}, got ${mode}`);

const app = Fastify();
if (mode === 'plugin') await app.register(threadloop);
app.get('/hash', async (request) => ({ hash: await hash(request) }));
app.get('/health', async () => ({ ok: true }));
await app.listen({ port: 0, host: '127.0.0.1' });

// How long the event loop waited beyond a 10 ms timer, and how often it was held over 100 ms.
const RESOLUTION_MS = 10;
const loopDelay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
let blocks = 0;
let monitor;
// The same delay over time, for the demo's timeline: [ms since start, delay ms], one per tick
// of a 10 ms timer (a tick that comes late is the loop having been busy).
let timeline = [];
let sampler;
let startedAt = 0;

process.on('message', async (message) => {
  if (message === 'start') {
    loopDelay.reset();
    loopDelay.enable();
    blocks = 0;
    monitor = monitorLoopBlocking({ thresholdMs: 100, onBlocked: () => blocks++ });
    timeline = [];
    startedAt = performance.now();
    let due = startedAt + RESOLUTION_MS;
    sampler = setInterval(() => {
      const now = performance.now();
      timeline.push([Math.round(now - startedAt), Math.max(0, now - due)]);
      due = now + RESOLUTION_MS;
    }, RESOLUTION_MS);
    process.send({ type: 'started' });
  } else if (message === 'stop') {
    loopDelay.disable();
    monitor.stop();
    clearInterval(sampler);
    const ms = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
    process.send({
      type: 'stopped',
      loopDelay: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) },
      blocks,
      timeline: timeline.map(([t, d]) => [t, Math.round(d * 10) / 10]),
    });
  } else if (message === 'exit') {
    await app.close();
    process.disconnect(); // nothing else keeps the process alive: it exits by itself
  }
});

process.send({ type: 'ready', port: app.server.address().port, hashMs: timeOneHash() });

/** The median time of one hash here, for the demo's description. */
function timeOneHash() {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    hashPassword('calibration');
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[2];
}
