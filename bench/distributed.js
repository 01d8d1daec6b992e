// The distributed section of `npm run bench`: threadloop/bullmq's QueueExecutor against raw
// BullMQ (Queue + Worker + QueueEvents) running the same no-op and CPU jobs, inline and (full run)
// in BullMQ's sandboxed processor, on each backend this machine can start privately
// (redis-server, PostgreSQL): jobs/s, p50/p99 submit-to-result latency and CPU per job of no-op
// jobs with a bounded window (medians of alternating rounds on long-running worker processes,
// each warmed up first), the p50 latency of no-op jobs sent one at a time, and the speed-up of
// CPU jobs from one worker process to two. Standalone: `node bench/distributed.js [--quick] [--backend=redis|postgres] [--json]` (JSON on the last
// stdout line, the shape bench/lib/distributed-suite.js reads).
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Queue, QueueEvents, createPostgresBackend, withBackend } from 'bullmq';
import pg from 'pg';
import { taskModule } from 'threadloop';
import { QueueExecutor } from 'threadloop/bullmq';
import { backendsAvailable, lineMatching, startPostgres, startRedis, track } from '../test/helpers/servers.js';

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
/** Rounds of the no-op measurement, contenders alternating (their order turns each round); the medians are reported. */
const ROUNDS = 5;
/**
 * No-op jobs per round: PostgreSQL takes 5-10x longer per job than Redis. A round ends with its
 * last job, and on PostgreSQL one whose event BullMQ's reader skipped is looked up after 500 ms
 * (by either contender): rounds of 1,500 jobs keep that tail from weighing a third of the round.
 */
const NOOP_JOBS = { redis: quick ? 1000 : 3000, postgres: quick ? 400 : 1500 };
/**
 * No-op jobs each contender runs untimed first. Fewer measure the JIT at work: a worker
 * process's CPU per job settles only after some 4,000 jobs on Redis (raw BullMQ's from 190 µs to
 * 60, threadloop's from 370 to 120, measured), and threadloop's, with more code to optimize,
 * later — with a quarter of a round's jobs, as this bench had, both ran 10-15% slower, and the
 * ratio between them read 0.71-0.81 where warm runs read 0.84-1.01. On PostgreSQL, at a few
 * hundred jobs/s, 2,000 (a job there costs the server milliseconds, the JIT's share is small).
 */
const WARMUP_JOBS = { redis: 5000, postgres: quick ? 1000 : 2000 };
const WINDOW = 64;
/**
 * Jobs per round of the latency measurement, one at a time. With 64 in flight a job's latency is
 * mostly its wait behind the others (in flight / throughput), and on PostgreSQL it also follows
 * how many of the 64 wait on a result BullMQ's event reader skipped (looked up after 500 ms: a
 * quarter of raw BullMQ's jobs in one scratch run, an eighth of threadloop's, which left more
 * jobs to queue behind each other and read as a higher p50 for the faster contender). One job at
 * a time measures what each step adds to a job's trip.
 */
const ALONE_JOBS = { redis: quick ? 150 : 300, postgres: 150 };
/**
 * The latency at a steady load: half raw BullMQ's no-op jobs/s in this run's rounds, the same for
 * every contender, for PACED_SECONDS a round, PACED_ROUNDS rounds alternating. With 64 in flight
 * (the rounds above) a job's latency is its wait behind the others, in flight / throughput; at a
 * steady load below what either can do, it is what each adds to a job's trip where jobs overlap
 * (the take-ahead and the consent, which a job alone skips, at work).
 */
const PACED_SECONDS = quick ? 1 : 2;
const PACED_ROUNDS = 3;
const CPU_JOBS = quick ? 16 : 48;
const FIB = quick ? 30 : 32; // quick: the same speed-up, in a third of the time
const CONCURRENCY = 8;
const log = (line) => process.stderr.write(`${line}\n`);
/** Raw BullMQ running the functions inline; BullMQ's sandboxed processor in worker threads (its own way to keep CPU work off the event loop); threadloop. */
/** (`--quick` leaves the sandboxed one out: at 3-9 ms of CPU per job it would take most of the 2 minutes.) */
const CONTENDERS = [
  { id: 'raw', label: 'raw BullMQ' },
  ...(quick ? [] : [{ id: 'sandboxed', label: 'raw BullMQ, sandboxed in worker threads' }]),
  { id: 'threadloop', label: 'threadloop/bullmq' },
];
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
    const args = kind === 'threadloop'
      ? [cli, 'worker', '--queue', queue, '--connection', server.url, '--tasks', `bench=${tasksUrl.pathname}`, '--threads', '1', '--concurrency', String(concurrency)]
      : [rawWorker, server.url, queue, String(concurrency), kind === 'sandboxed' ? 'sandboxed' : 'inline'];
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

/** How long the raw producer waits on a job's silence before it looks the job up: QueueExecutor's `reconcileAfterMs`. */
const LOOK_AFTER_MS = { redis: 5000, postgres: 500 };

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
      // BullMQ 6.7's PostgreSQL event reader can skip events: after LOOK_AFTER_MS of silence the
      // job is looked up, as QueueExecutor does (as soon as it does), or this would wait forever.
      const lookAfterMs = LOOK_AFTER_MS[server.kind];
      await new Promise((resolve) => {
        let timer;
        let finished = false;
        const done = () => {
          finished = true;
          clearTimeout(timer);
          waiting.delete(job.id);
          resolve();
        };
        // A lookup under way when the event comes must not look again (nor after close()).
        const look = async () => {
          const stored = await q.getJob(job.id).catch(() => undefined);
          if (finished) return;
          if (stored?.finishedOn) done();
          else timer = setTimeout(look, lookAfterMs);
        };
        waiting.set(job.id, done);
        timer = setTimeout(look, lookAfterMs);
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
  // slowShare: jobs over 300 ms — on PostgreSQL those whose event BullMQ's reader skipped, looked up after 500 ms.
  return { jobsPerSec: jobs / seconds, p50Ms: latencies[Math.floor(jobs * 0.5)], p99Ms: latencies[Math.floor(jobs * 0.99)], slowShare: latencies.filter((ms) => ms > 300).length / jobs, seconds };
}

/**
 * `jobs` jobs sent at a steady `rate` (jobs/s), each when it is due whether or not earlier ones
 * have come back (an open loop, as requests come to a service): the latency a job sees at that
 * load, counted from when it was due, so that a send held up counts against the contender. Sends
 * due within the same millisecond go together (a timer's resolution).
 */
async function paced(producer, name, data, jobs, rate) {
  const latencies = [];
  const sent = [];
  const started = performance.now();
  for (let i = 0; i < jobs; i++) {
    const due = started + (i * 1000) / rate;
    const early = due - performance.now();
    if (early >= 1) await new Promise((resolve) => setTimeout(resolve, early));
    sent.push(producer.run(name, data).then(() => latencies.push(performance.now() - due)));
  }
  await Promise.all(sent);
  latencies.sort((a, b) => a - b);
  return { p50Ms: latencies[Math.floor(jobs * 0.5)], p99Ms: latencies[Math.floor(jobs * 0.99)] };
}

/**
 * The server as one contender sees it. On PostgreSQL, a database of its own: BullMQ announces
 * every job and event of every queue of a database to every listener there (one channel each,
 * filtered by queue name on arrival), so contenders idle between their rounds would otherwise
 * be woken by the one measured — a database is the scope of PostgreSQL's NOTIFY.
 */
async function serverFor(server, name) {
  if (server.kind !== 'postgres') return server;
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return { ...server, url: url.href };
}

/** A contender's worker processes and producer on a fresh queue, ready to run jobs. */
async function startContender(server, kind, { workers, concurrency }) {
  const queue = `bench${process.pid}_${++queueCount}`;
  const own = await serverFor(server, queue);
  const started = await startWorkers(kind, own, queue, workers, concurrency);
  const producer = kind === 'threadloop' ? threadloopProducer(own, queue) : rawProducer(own, queue);
  try {
    await producer.ready;
  } catch (error) {
    await producer.close().catch(() => {});
    await started.stop();
    throw error;
  }
  return {
    /** `jobs` jobs through a window: throughput, latency, and the CPU per job of the workers and of this (the producer's) process. */
    async measure(name, data, jobs, window) {
      const [worker0, producer0] = [started.cpuMs(), process.cpuUsage()];
      const result = await windowed(producer, name, data, jobs, window);
      const producerUs = process.cpuUsage(producer0);
      return { ...result, workerCpuUsPerJob: ((started.cpuMs() - worker0) * 1000) / jobs, producerCpuUsPerJob: (producerUs.user + producerUs.system) / jobs };
    },
    /** `jobs` jobs at a steady `rate`: the latency at that load (paced). */
    paced: (name, data, jobs, rate) => paced(producer, name, data, jobs, rate),
    async stop() {
      await producer.close();
      await started.stop();
    },
  };
}

/** One contender's run of `jobs` jobs on fresh worker processes and a fresh queue. */
async function runOnce(server, kind, { workers, name, data, jobs, window, concurrency }) {
  const contender = await startContender(server, kind, { workers, concurrency });
  try {
    return await contender.measure(name, data, jobs, window);
  } finally {
    await contender.stop();
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/**
 * Every contender on one backend: no-op rounds, then the CPU speed-up once each. The no-op
 * contenders run side by side on queues of their own, as long-running workers do: each is
 * warmed up once (WARMUP_JOBS: the JIT takes thousands of jobs to settle), then the rounds
 * alternate between them, their order turning each round.
 */
async function measureBackend(server) {
  const jobs = NOOP_JOBS[server.kind];
  const samples = new Map(CONTENDERS.map((c) => [c.id, []]));
  const alone = new Map(CONTENDERS.map((c) => [c.id, []]));
  const steady = new Map(CONTENDERS.map((c) => [c.id, []]));
  let pacedRate = 0;
  const running = new Map();
  try {
    for (const { id, label } of CONTENDERS) {
      const contender = await startContender(server, id, { workers: 1, concurrency: CONCURRENCY });
      running.set(id, contender);
      const warm = await contender.measure('noop', 0, WARMUP_JOBS[server.kind], WINDOW);
      log(`  ${server.kind} ${label}: warmed up with ${WARMUP_JOBS[server.kind]} jobs (${warm.jobsPerSec.toFixed(0)} jobs/s)`);
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = CONTENDERS.map((_, i) => CONTENDERS[(i + round) % CONTENDERS.length]);
      for (const { id, label } of order) {
        const r = await running.get(id).measure('noop', 0, jobs, WINDOW);
        samples.get(id).push(r);
        log(`  ${server.kind} round ${round + 1} ${label}: ${r.jobsPerSec.toFixed(0)} jobs/s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, CPU per job: worker ${r.workerCpuUsPerJob.toFixed(0)} us, producer ${r.producerCpuUsPerJob.toFixed(0)} us`);
      }
    }
    // One job at a time: what each contender adds to a job's trip (rounds alternating, as above).
    for (let round = 0; round < ROUNDS; round++) {
      const order = CONTENDERS.map((_, i) => CONTENDERS[(i + round) % CONTENDERS.length]);
      for (const { id, label } of order) {
        const r = await running.get(id).measure('noop', 0, ALONE_JOBS[server.kind], 1);
        alone.get(id).push(r.p50Ms);
        log(`  ${server.kind} one at a time, round ${round + 1} ${label}: p50 ${r.p50Ms.toFixed(2)} ms`);
      }
    }
    // A steady load, the same for every contender: half raw BullMQ's jobs/s.
    pacedRate = Math.round(median(samples.get('raw').map((r) => r.jobsPerSec)) / 2);
    for (let round = 0; round < PACED_ROUNDS; round++) {
      const order = CONTENDERS.map((_, i) => CONTENDERS[(i + round) % CONTENDERS.length]);
      for (const { id, label } of order) {
        const r = await running.get(id).paced('noop', 0, Math.round(pacedRate * PACED_SECONDS), pacedRate);
        steady.get(id).push(r);
        log(`  ${server.kind} ${pacedRate} jobs/s steady, round ${round + 1} ${label}: p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`);
      }
    }
  } finally {
    for (const contender of running.values()) await contender.stop();
  }
  const rows = [];
  for (const { id, label } of CONTENDERS) {
    const runs = samples.get(id);
    const pick = (key) => median(runs.map((r) => r[key]));
    const cpu = {};
    for (const workers of [1, 2]) {
      cpu[workers] = (await runOnce(server, id, { workers, name: 'fib', data: FIB, jobs: CPU_JOBS, window: CPU_JOBS, concurrency: 1 })).seconds;
    }
    log(`  ${server.kind} ${label} CPU jobs: 1 worker ${cpu[1].toFixed(2)} s, 2 workers ${cpu[2].toFixed(2)} s`);
    rows.push({
      backend: server.kind,
      contender: label,
      id,
      rounds: runs.length,
      warmupJobs: WARMUP_JOBS[server.kind],
      /** Its worker processes ran every round, warmed up once (earlier runs: fresh ones each round, after a quarter as many untimed). */
      warmedOnce: true,
      jobsPerSec: pick('jobsPerSec'),
      jobsPerSecRange: [Math.min(...runs.map((r) => r.jobsPerSec)), Math.max(...runs.map((r) => r.jobsPerSec))],
      p50Ms: pick('p50Ms'),
      p99Ms: pick('p99Ms'),
      slowShare: pick('slowShare'),
      /** p50 of jobs sent one at a time (ALONE_JOBS per round), median of the rounds. */
      aloneP50Ms: median(alone.get(id)),
      aloneJobs: ALONE_JOBS[server.kind],
      /** p50 and p99 of jobs sent at a steady `pacedRate` jobs/s (half raw BullMQ's), medians of PACED_ROUNDS. */
      pacedRate,
      pacedP50Ms: median(steady.get(id).map((r) => r.p50Ms)),
      pacedP99Ms: median(steady.get(id).map((r) => r.p99Ms)),
      workerCpuUsPerJob: pick('workerCpuUsPerJob'),
      producerCpuUsPerJob: pick('producerCpuUsPerJob'),
      /** This contender's jobs/s in each round, in round order (raw BullMQ's row has the same rounds' own). */
      perRound: runs.map((r) => r.jobsPerSec),
      cpu1Seconds: cpu[1],
      cpu2Seconds: cpu[2],
      speedup: cpu[1] / cpu[2],
    });
  }
  return rows;
}

/** A ratio with two decimals, rounded toward a miss (as the README's margins are): 0.899 of a 0.9 bound never reads 0.90. */
const towardMiss = (ratio, round) => (Math[round](ratio * 100) / 100).toFixed(2);

const { found, missing } = backendsAvailable();
if (missing.length > 0) log(`distributed: not available here: ${missing.map((m) => `${m.kind} (${m.why})`).join('; ')}`);
const rows = [];
const targets = [];
// --quick measures Redis only (PostgreSQL, whose server takes seconds to set up, in the full run);
// --backend=<kind> measures that one alone.
const only = process.argv.find((arg) => arg.startsWith('--backend='))?.slice('--backend='.length);
for (const backend of only !== undefined ? found.filter((kind) => kind === only) : quick && found.includes('redis') ? ['redis'] : found) {
  const server = backend === 'redis' ? await startRedis() : await startPostgres();
  try {
    const measured = await measureBackend(server);
    rows.push(...measured);
    const raw = measured.find((r) => r.id === 'raw');
    const ours = measured.find((r) => r.id === 'threadloop');
    targets.push(
      // margin: how many times better than its bound (>= 1: met), as the local targets have it.
      { name: `${backend}: threadloop/bullmq no-op throughput >= 0.9x raw BullMQ`, pass: ours.jobsPerSec >= 0.9 * raw.jobsPerSec, margin: ours.jobsPerSec / (0.9 * raw.jobsPerSec), detail: `${towardMiss(ours.jobsPerSec / raw.jobsPerSec, 'floor')}x (median of ${ROUNDS} rounds each)` },
      { name: `${backend}: threadloop/bullmq p50 latency <= 1.1x raw BullMQ`, pass: ours.p50Ms <= 1.1 * raw.p50Ms, margin: (1.1 * raw.p50Ms) / ours.p50Ms, detail: `${towardMiss(ours.p50Ms / raw.p50Ms, 'ceil')}x (64 in flight; jobs over 300 ms: ${(100 * ours.slowShare).toFixed(1)}% against ${(100 * raw.slowShare).toFixed(1)}%)` },
      { name: `${backend}: threadloop/bullmq p50 latency of a job alone <= 1.1x raw BullMQ`, pass: ours.aloneP50Ms <= 1.1 * raw.aloneP50Ms, margin: (1.1 * raw.aloneP50Ms) / ours.aloneP50Ms, detail: `${towardMiss(ours.aloneP50Ms / raw.aloneP50Ms, 'ceil')}x (${ours.aloneP50Ms.toFixed(2)} ms against ${raw.aloneP50Ms.toFixed(2)}, one job at a time)` },
    );
  } finally {
    await server.stop();
  }
}
for (const row of rows) log(`${row.backend.padEnd(9)} ${row.contender.padEnd(40)} ${row.jobsPerSec.toFixed(0).padStart(6)} jobs/s  p50 ${row.p50Ms.toFixed(1)} ms  p99 ${row.p99Ms.toFixed(1)} ms  alone p50 ${row.aloneP50Ms.toFixed(2)} ms  worker CPU/job ${row.workerCpuUsPerJob.toFixed(0)} us  CPU 1->2 workers ${row.speedup.toFixed(2)}x`);
for (const t of targets) log(`${t.pass ? 'PASS' : 'MISS'} ${t.name}: ${t.detail}`);
if (json) process.stdout.write(`${JSON.stringify({ rows, targets })}\n`);
