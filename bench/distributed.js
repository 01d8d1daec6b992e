// The distributed section of `npm run bench`: threadloop/bullmq's QueueExecutor against raw
// BullMQ (Queue + Worker + QueueEvents) running the same no-op and CPU jobs, on each backend this
// machine can start privately (redis-server, PostgreSQL): jobs/s and p50/p99 submit-to-result
// latency of no-op jobs with a bounded window, and the speed-up of CPU jobs from one worker
// process to two. Standalone: `node bench/distributed.js [--quick] [--json]` (JSON on the last
// stdout line, the shape bench/lib/distributed-suite.js reads).
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Queue, QueueEvents, createPostgresBackend, withBackend } from 'bullmq';
import { taskModule } from 'threadloop';
import { QueueExecutor } from 'threadloop/bullmq';
import { backendsAvailable, lineMatching, startPostgres, startRedis, track } from '../test/helpers/servers.js';

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const NOOP_JOBS = quick ? 600 : 3000;
const WINDOW = 64;
const CPU_JOBS = quick ? 16 : 48;
const FIB = quick ? 30 : 32; // quick: the same speed-up, in a third of the time
const CONCURRENCY = 8;
const log = (line) => process.stderr.write(`${line}\n`);
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    return 100;
  }
})();
const cli = new URL('../dist/bin/threadloop.js', import.meta.url).pathname;
const rawWorker = new URL('./tasks/raw-bullmq-worker.js', import.meta.url).pathname;
const tasksUrl = new URL('./tasks/queue-tasks.js', import.meta.url);
const bench = taskModule(tasksUrl, { name: 'bench' });
let queueCount = 0;

async function startWorkers(kind, server, queue, count, concurrency) {
  const children = [];
  for (let i = 0; i < count; i++) {
    const args = kind === 'raw'
      ? [rawWorker, server.url, queue, String(concurrency)]
      : [cli, 'worker', '--queue', queue, '--connection', server.url, '--tasks', `bench=${tasksUrl.pathname}`, '--threads', '1', '--concurrency', String(concurrency)];
    const child = track(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] }));
    await lineMatching(child, child.stdout, /ready/, `${kind} worker`);
    children.push(child);
  }
  const stop = async () => {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  };
  return { stop, cpuMs: () => children.reduce((sum, child) => sum + cpuMsOf(child.pid), 0) };
}

/**
 * CPU time (user + system, all threads) a process has used, in ms; Linux only (NaN elsewhere).
 * On a busy machine CPU per job is steadier than jobs/s, which other processes' load moves.
 */
function cpuMsOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** The raw BullMQ producer: add jobs with a bounded window, results from QueueEvents. */
function rawProducer(server, queue) {
  const postgres = server.kind === 'postgres';
  const { port } = new URL(server.url);
  const connection = postgres ? { connectionString: server.url, migrate: true } : { host: '127.0.0.1', port: Number(port) };
  const classes = postgres ? withBackend(createPostgresBackend) : { Queue, QueueEvents };
  const q = new classes.Queue(queue, { connection });
  const events = new classes.QueueEvents(queue, { connection });
  const waiting = new Map();
  events.on('completed', ({ jobId }) => waiting.get(jobId)?.());
  return {
    ready: events.waitUntilReady().then(() => new Promise((r) => setTimeout(r, 200))),
    run: async (name, data) => {
      const job = await q.add(name, data, { removeOnComplete: { age: 600 } });
      // BullMQ 6.7's PostgreSQL event reader can skip events: after a second of silence the job
      // is looked up, as QueueExecutor does, or this would wait forever.
      await new Promise((resolve) => {
        let timer;
        const done = () => {
          clearTimeout(timer);
          waiting.delete(job.id);
          resolve();
        };
        const look = async () => {
          const stored = await q.getJob(job.id);
          if (stored?.finishedOn) done();
          else timer = setTimeout(look, 1000);
        };
        waiting.set(job.id, done);
        timer = setTimeout(look, 1000);
      });
    },
    close: () => Promise.all([q.close(), events.close()]),
  };
}

function threadloopProducer(server, queue) {
  const executor = new QueueExecutor({ queue, connection: server.url });
  return {
    ready: executor.submit(bench.noop, 0), // warms the event stream
    run: (name, data) => executor.submit(bench[name], data),
    close: () => executor.shutdown(),
  };
}

async function windowed(producer, name, data, jobs, window) {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < jobs) {
      next++;
      const t0 = performance.now();
      await producer.run(name, data);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { jobsPerSec: jobs / seconds, p50Ms: latencies[Math.floor(jobs * 0.5)], p99Ms: latencies[Math.floor(jobs * 0.99)], seconds };
}

async function measure(server, kind) {
  const row = { backend: server.kind, contender: kind === 'raw' ? 'raw BullMQ' : 'threadloop/bullmq' };
  for (const [label, workers, name, data, jobs, window] of [
    ['noop', 1, 'noop', 0, NOOP_JOBS, WINDOW],
    ['cpu1', 1, 'fib', FIB, CPU_JOBS, CPU_JOBS],
    ['cpu2', 2, 'fib', FIB, CPU_JOBS, CPU_JOBS],
  ]) {
    const queue = `bench${process.pid}-${++queueCount}`;
    const { stop, cpuMs } = await startWorkers(kind, server, queue, workers, label === 'noop' ? CONCURRENCY : 1);
    const producer = kind === 'raw' ? rawProducer(server, queue) : threadloopProducer(server, queue);
    try {
      await producer.ready;
      const [worker0, producer0] = [cpuMs(), process.cpuUsage()];
      const result = await windowed(producer, name, data, jobs, window);
      const producerUs = process.cpuUsage(producer0);
      const cpu = { workerUs: ((cpuMs() - worker0) * 1000) / jobs, producerUs: (producerUs.user + producerUs.system) / jobs };
      if (label === 'noop') Object.assign(row, { jobsPerSec: result.jobsPerSec, p50Ms: result.p50Ms, p99Ms: result.p99Ms, workerCpuUsPerJob: cpu.workerUs, producerCpuUsPerJob: cpu.producerUs });
      else row[`${label}Seconds`] = result.seconds;
      const cpuText = `CPU per job: worker ${cpu.workerUs.toFixed(0)} us, producer ${cpu.producerUs.toFixed(0)} us`;
      log(`  ${server.kind} ${row.contender} ${label}: ${label === 'noop' ? `${result.jobsPerSec.toFixed(0)} jobs/s, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, ${cpuText}` : `${result.seconds.toFixed(2)} s`}`);
    } finally {
      await producer.close();
      if (process.env.BENCH_DEBUG) log('  producer closed');
      await stop();
      if (process.env.BENCH_DEBUG) log('  workers stopped');
    }
  }
  row.speedup = row.cpu1Seconds / row.cpu2Seconds;
  return row;
}

const { found, missing } = backendsAvailable();
if (missing.length > 0) log(`distributed: not available here: ${missing.map((m) => `${m.kind} (${m.why})`).join('; ')}`);
const rows = [];
const targets = [];
for (const backend of found) {
  const server = backend === 'redis' ? await startRedis() : await startPostgres();
  try {
    const raw = await measure(server, 'raw');
    const ours = await measure(server, 'threadloop');
    rows.push(raw, ours);
    targets.push(
      { name: `${backend}: threadloop/bullmq no-op throughput >= 0.9x raw BullMQ`, pass: ours.jobsPerSec >= 0.9 * raw.jobsPerSec, detail: `${(ours.jobsPerSec / raw.jobsPerSec).toFixed(2)}x` },
      { name: `${backend}: threadloop/bullmq p50 latency <= 1.1x raw BullMQ`, pass: ours.p50Ms <= 1.1 * raw.p50Ms, detail: `${(ours.p50Ms / raw.p50Ms).toFixed(2)}x` },
    );
  } finally {
    await server.stop();
  }
}
for (const row of rows) log(`${row.backend.padEnd(9)} ${row.contender.padEnd(18)} ${row.jobsPerSec.toFixed(0).padStart(6)} jobs/s  p50 ${row.p50Ms.toFixed(1)} ms  p99 ${row.p99Ms.toFixed(1)} ms  CPU 1->2 workers ${row.speedup.toFixed(2)}x`);
for (const t of targets) log(`${t.pass ? 'PASS' : 'MISS'} ${t.name}: ${t.detail}`);
if (json) process.stdout.write(`${JSON.stringify({ rows, targets })}\n`);
