// `npm run demo:fleet`: the main job scaled out. A producer and three `threadloop worker`
// processes on this machine, against a private queue server (redis-server by default;
// `npm run demo:fleet -- --postgres`, or no redis-server here, for PostgreSQL), exactly as they would run on four machines:
//
//   threadloop worker --queue fleet --connection redis://… --tasks fleet=./demo/fleet-tasks.js
//
// It shows live progress (jobs done, jobs/s, per worker), kills one worker with SIGKILL a third
// of the way through — its running jobs go back to the queue through BullMQ's stall check — and
// ends with a table: every job finished exactly once, and where. Ends by itself in well under a minute.
import { spawn } from 'node:child_process';
import { taskModule } from 'threadloop';
import { QueueExecutor } from 'threadloop/bullmq';
import { backendsAvailable, lineMatching, startPostgres, startRedis, track } from '../test/helpers/servers.js';

const JOBS = Number(process.env.FLEET_JOBS ?? 300);
const ROUNDS = Number(process.env.FLEET_ROUNDS ?? 10_000); // ~5-10 ms of hashing per job
const WORKERS = 3;
// A machine without redis-server (no npm package ships one) runs the fleet on PostgreSQL.
const postgres = process.argv.includes('--postgres') || !backendsAvailable().found.includes('redis');
const cli = new URL('../dist/bin/threadloop.js', import.meta.url).pathname;
const tasksUrl = new URL('./fleet-tasks.js', import.meta.url);
const fleet = taskModule(tasksUrl, { name: 'fleet' });

const server = postgres ? await startPostgres() : await startRedis();
const workers = [];
let executor;
try {
  console.log(`queue server: private ${server.kind} at ${server.url}`);
  for (let i = 0; i < WORKERS; i++) {
    const args = ['worker', '--queue', 'fleet', '--connection', server.url, '--tasks', `fleet=${tasksUrl.pathname}`, '--threads', '1', '--concurrency', '2', '--lock-duration-ms', '2000', '--stalled-interval-ms', '1000'];
    console.log(`$ threadloop ${args.join(' ')}`);
    const child = track(spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }));
    await lineMatching(child, child.stdout, /ready.*\n/, 'threadloop worker');
    child.exited = new Promise((resolve) => child.once('exit', resolve));
    workers.push({ child, pid: child.pid, name: `worker ${i + 1}`, killed: false });
  }

  executor = new QueueExecutor({ queue: 'fleet', connection: server.url });
  const settledTimes = new Map(); // job index -> how many times its future settled
  const ranOn = new Map(); // pid -> jobs
  const started = performance.now();
  const futures = Array.from({ length: JOBS }, (_, i) => {
    const future = executor.submit(fleet.digest, i, ROUNDS);
    future.addDoneCallback((f) => {
      settledTimes.set(i, (settledTimes.get(i) ?? 0) + 1);
      const where = executor.workerOf(f);
      if (where !== undefined) ranOn.set(where.pid, (ranOn.get(where.pid) ?? 0) + 1);
    });
    return future;
  });

  const line = () => {
    const done = settledTimes.size;
    const seconds = (performance.now() - started) / 1000;
    const per = workers.map((w) => `${w.name}${w.killed ? ' (killed)' : ''}: ${ranOn.get(w.pid) ?? 0}`).join('  ');
    return `${String(done).padStart(4)}/${JOBS} done  ${(done / seconds).toFixed(0).padStart(4)} jobs/s  |  ${per}`;
  };
  const ticker = setInterval(() => {
    console.log(line());
    const victim = workers[1];
    if (!victim.killed && settledTimes.size >= JOBS / 3) {
      victim.killed = true;
      victim.child.kill('SIGKILL');
      console.log(`>>> kill -9 ${victim.name} (pid ${victim.pid}) mid-run: its running jobs go back to the queue when their lock expires`);
    }
  }, 500);
  const results = await Promise.allSettled(futures);
  clearInterval(ticker);
  console.log(line());

  const failed = results.filter((r) => r.status === 'rejected');
  console.log('\n  worker      pid       jobs   state');
  for (const w of workers) console.log(`  ${w.name.padEnd(10)}  ${String(w.pid).padEnd(8)}  ${String(ranOn.get(w.pid) ?? 0).padStart(4)}   ${w.killed ? 'killed with SIGKILL mid-run' : 'alive'}`);
  const once = [...settledTimes.values()].every((n) => n === 1);
  console.log(`\n  ${JOBS} jobs submitted, ${settledTimes.size} settled, each exactly once: ${once && settledTimes.size === JOBS ? 'yes' : 'NO'}; ${failed.length} failed`);
  for (const f of failed.slice(0, 3)) console.log(`  failure: ${f.reason?.message}`);
  process.exitCode = once && settledTimes.size === JOBS && failed.length === 0 ? 0 : 1;
} finally {
  await executor?.shutdown({ cancelFutures: true });
  for (const w of workers) if (!w.killed) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.child.exited));
  await server.stop();
}
