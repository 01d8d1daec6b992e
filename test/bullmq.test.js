// threadloop/bullmq against real servers: a private redis-server and a private PostgreSQL
// cluster (each on a free port, in a temporary directory), with `threadloop worker` processes.
// Every backend this machine has is run; the ones it lacks are printed, never skipped silently.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { deserialize } from 'node:v8';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue, QueueEvents, QueueEventsProducer, withBackend, createPostgresBackend } from 'bullmq';
import pg from 'pg';
import { AbortError, CancelledError, DeadlockError, QueueFullError, TaskNotFoundError, TaskSerializationError, TimeoutError, taskModule, wait } from 'threadloop';
import { QueueConnectionError, QueueExecutor, startQueueWorker } from 'threadloop/bullmq';
import { backendsAvailable, freePort, lineMatching, startPostgres, startRedis, track } from './helpers/servers.js';
import { eventually, rejectsWith, within } from './helpers/util.js';

// pg deprecates queueing queries on one client: threadloop's own sessions (pg-consent.ts) must not, or its users see the warning.
const pgQueueWarnings = [];
process.on('warning', (warning) => /already executing a query/.test(warning.message) && pgQueueWarnings.push(warning.message));

const fixture = new URL('./fixtures/queue-tasks.js', import.meta.url);
const cli = new URL('../dist/bin/threadloop.js', import.meta.url).pathname;
const tasks = taskModule(fixture, { name: 'fx' });
const { found, from, missing } = backendsAvailable();
const said = (list) => list.map((m) => `${m.kind} (${m.why})`).join('; ');
console.log(`threadloop/bullmq backends run: ${found.map((kind) => `${kind} (${from[kind]})`).join(', ') || 'none'}${missing.length > 0 ? `; NOT AVAILABLE, NOT RUN: ${said(missing)}` : ''}`);
// CI runs every backend: one that cannot run there fails a test naming it.
const inCI = process.env.CI !== undefined && !['', '0', 'false'].includes(process.env.CI);
if (missing.length > 0 && !inCI) console.warn(`WARNING: the threadloop/bullmq tests do not run on ${missing.map((m) => m.kind).join(' or ')} here (CI runs both)`);
test('at least one queue backend is available', () => assert.ok(found.length > 0, `no queue server can run here: ${said(missing)}`));
if (inCI) for (const m of missing) test(`CI: the ${m.kind} backend can run`, () => assert.fail(`CI is set and the ${m.kind} backend cannot run: ${m.why}`));

/**
 * Each test's bound: a test that waits for something that never comes fails after 2 minutes (it
 * takes seconds; under 30 on a machine at half speed), naming itself, instead of holding the
 * whole file until the run's own timeout (10 minutes, and on Node 20 and 22 the file's).
 */
const HANG_GUARD = { timeout: 120_000 };

let queues = 0;
const newQueueName = () => `q${process.pid}-${++queues}`;

/** A `threadloop worker` process; resolves once it is taking jobs. */
async function startWorker(server, queue, extra = []) {
  const child = track(
    spawn(process.execPath, [cli, 'worker', '--queue', queue, '--connection', server.url, '--tasks', `fx=${fixture.pathname}`, '--threads', '2', '--lock-duration-ms', '1000', '--stalled-interval-ms', '500', ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  await lineMatching(child, child.stdout, /threadloop worker ready: queue '[^']+', pid \d+, tasks fx, .*\n/, 'threadloop worker');
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
  return child;
}

async function stopWorker(child) {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await child.exited;
}

/** A job's arguments as stored: `~` and JSON for a short list of numbers and short strings, else v8-serialized in base64. */
function storedArgs(a) {
  return a.startsWith('~') ? JSON.parse(a.slice(1)) : deserialize(Buffer.from(a, 'base64'));
}

/** A plain BullMQ `Queue`, `QueueEvents` or `QueueEventsProducer` (`part`) on `name`, on the server's backend. */
function rawPart(server, part, name) {
  if (server.kind === 'redis') {
    const { port } = new URL(server.url);
    return new { Queue, QueueEvents, QueueEventsProducer }[part](name, { connection: { host: '127.0.0.1', port: Number(port) } });
  }
  return new (withBackend(createPostgresBackend)[part])(name, { connection: { connectionString: server.url, migrate: true } });
}

const rawQueue = (server, name) => rawPart(server, 'Queue', name);
/** On `name`'s own event stream, where a worker asks for consents. */
const rawEventsProducer = (server, name) => rawPart(server, 'QueueEventsProducer', name);

/**
 * Listens to the start consents producers say on `queue` (their control stream; on PostgreSQL
 * also their NOTIFY channel: start-consent.ts, pg-consent.ts); `heard(ids)` for each. Resolves
 * once listening, with `{ mark, stop }`: `mark(id)` says a consent for `id` (a marker, of no
 * producer's) where a producer says them unasked, and resolves once it is heard — after all said
 * there before it.
 */
async function hearConsents(server, queue, heard) {
  const marks = new Map();
  const hear = (ids) => {
    heard(ids);
    for (const id of ids) marks.get(id)?.();
  };
  const marked = (id) => new Promise((resolve) => marks.set(id, resolve));
  // (On PostgreSQL answers to asks go on the stream too: the wire may be what lost the first.)
  const control = `${queue}-threadloop`;
  const events = rawPart(server, 'QueueEvents', control);
  events.on('threadloop:start', ({ ids }) => hear(ids.split(',')));
  await events.waitUntilReady();
  if (server.kind === 'redis') {
    const marker = rawPart(server, 'QueueEventsProducer', control);
    return {
      mark: (id) => Promise.all([marked(id), marker.publishEvent({ eventName: 'threadloop:start', producer: 'marker', ids: id })]),
      stop: () => Promise.all([events.close(), marker.close()]),
    };
  }
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  const channel = `threadloop_start_${createHash('sha256').update(queue).digest('hex').slice(0, 24)}`;
  client.on('notification', (message) => message.channel === channel && hear(JSON.parse(message.payload).i.split(',')));
  await client.query(`LISTEN ${channel}`);
  return {
    // Unasked consents go by NOTIFY, delivered in commit order.
    mark: (id) => Promise.all([marked(id), client.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify({ p: 'marker', i: id })])]),
    stop: () => Promise.all([client.end(), events.close()]),
  };
}

/**
 * A worker (one thread, one run slot) on a queue of its own, its producer, and a `hold` job
 * 'first' holding the slot — after three short jobs, so that the worker takes jobs ahead unless
 * told not to. `end()` opens the gates 'first' and 'second' and closes everything, forcefully:
 * a failed assertion must leave nothing to wait for.
 */
async function oneSlotBusy(server, workerOptions = {}) {
  const own = newQueueName();
  const gate = gates();
  const raw = rawQueue(server, own);
  const worker = await startQueueWorker({ queue: own, connection: server.url, tasks: { fx: fixture }, threads: 1, concurrency: 1, ...workerOptions });
  const producer = new QueueExecutor({ queue: own, connection: server.url });
  const end = async () => {
    gate.open('first');
    gate.open('second');
    await worker.close();
    await producer.shutdown({ force: true });
    await raw.close();
    gate.remove();
  };
  try {
    await Promise.all(Array.from({ length: 3 }, (_, i) => producer.submit(tasks.echo, i)));
    const first = producer.submit(tasks.hold, gate.dir, 'first');
    await eventually(() => gate.startedBy('first').length === 1 && first.state === 'running', { what: 'the first job to start', timeoutMs: 10_000 });
    return { own, gate, raw, worker, producer, first, end };
  } catch (error) {
    await end();
    throw error;
  }
}

/** A directory for `hold` gates. */
function gates() {
  const dir = mkdtempSync(join(tmpdir(), 'threadloop-gates-'));
  return {
    dir,
    open: (name) => writeFileSync(join(dir, `open-${name}`), ''),
    startedBy: (name) => readdirSync(dir).filter((f) => f.startsWith(`started-${name}-`)).map((f) => Number(f.slice(`started-${name}-`.length))),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// The backends side by side (each on its own private server; a backend's tests one at a time):
// most of this file's time is waiting — on servers, on worker processes, on a producer's silence.
describe('threadloop/bullmq on every backend', { concurrency: true }, () => {
  for (const kind of found) {
    describe(`threadloop/bullmq on ${kind}`, { concurrency: false }, () => {
      let server;
      let queue;
      let workers = [];
      let executor;

      before(async () => {
        server = kind === 'redis' ? await startRedis() : await startPostgres();
        queue = newQueueName();
        workers = await Promise.all([startWorker(server, queue, ['--concurrency', '4']), startWorker(server, queue, ['--concurrency', '4'])]);
        executor = new QueueExecutor({ queue, connection: server.url });
      });

      after(async () => {
        await executor?.shutdown({ cancelFutures: true }).catch(() => {});
        await Promise.all(workers.map(stopWorker));
        await server?.stop();
      });

      test('results keep what crosses threads; futures go pending -> running -> finished', HANG_GUARD, async () => {
        const value = { map: new Map([[1, new Set(['a'])]]), date: new Date(7), big: 2n ** 70n, bytes: new Uint8Array([1, 2, 3]), buffer: Buffer.from('hi'), nested: { list: [1, [2, { three: 3 }]] } };
        const future = executor.submit(tasks.echo, value);
        assert.equal(future.state, 'pending');
        const seen = [];
        future.addDoneCallback((f) => seen.push(f.state));
        const echoed = await future;
        assert.deepEqual(echoed, { ...value, buffer: new Uint8Array(Buffer.from('hi')) });
        assert.equal(echoed.big, 2n ** 70n);
        assert.deepEqual(seen, ['finished']);
        const worker = executor.workerOf(future);
        assert.ok(workers.some((w) => w.pid === worker.pid), `ran on a worker process, not ${worker.pid}`);
      });

      test('numbers, strings and lists of them (sent as JSON) and the values JSON would change come back exactly', HANG_GUARD, async () => {
        const values = [0, -0, NaN, Infinity, -Infinity, 2 ** 53 + 2, 5e-324, -1.5, '', 'é€😀', '\ud800', 'x'.repeat(300), true, false, null, undefined];
        const echoed = await Promise.all(values.map((value) => executor.submit(tasks.echo, value)));
        values.forEach((value, i) => assert.ok(Object.is(echoed[i], value), `${String(value).slice(0, 20)} came back as ${String(echoed[i]).slice(0, 20)}`));
        assert.deepStrictEqual(await executor.submit(tasks.list, 1, 'a', true, null), [1, 'a', true, null]);
        assert.deepStrictEqual(await executor.submit(tasks.list, 1, undefined, -0, 'b'), [1, undefined, -0, 'b']);
        assert.deepStrictEqual(await executor.submit(tasks.list, ...Array.from({ length: 40 }, (_, i) => i)), Array.from({ length: 40 }, (_, i) => i));
        assert.deepStrictEqual(await executor.submit(tasks.list), []);
        // A list with more than its items (a regex match's index, input, groups) keeps them.
        const match = await executor.submit(tasks.match, 'abc', '(?<x>b)');
        assert.deepEqual([match.length, match[0], match.index, match.input, match.groups?.x], [2, 'b', 1, 'abc', 'b']);
        // Which form each took (a JSON one marks itself with '~'): what JSON carries exactly went as JSON.
        await executor.submit(tasks.list, 7, 'pin-json');
        await executor.submit(tasks.list, -0, 'pin-v8');
        const raw = rawQueue(server, queue);
        try {
          const stored = (await raw.getJobs(['completed'])).map((job) => job.data.a);
          const form = (pin) => stored.filter((a) => storedArgs(a).includes(pin)).map((a) => (a.startsWith('~') ? 'json' : 'v8'));
          assert.deepEqual([form('pin-json'), form('pin-v8')], [['json'], ['v8']]);
        } finally {
          await raw.close();
        }
      });

      test('finished jobs are kept 10 minutes, and on Redis at most 100,000 (PostgreSQL keeps a count by sorting them all at each completion)', HANG_GUARD, async () => {
        assert.equal(await executor.submit(tasks.echo, 'kept'), 'kept');
        const raw = rawQueue(server, queue);
        try {
          const [job] = await raw.getJobs(['completed'], 0, 0);
          // On PostgreSQL BullMQ keeps them, and the producer sweeps them past their age (the next test).
          assert.deepEqual(job.opts.removeOnComplete, kind === 'redis' ? { age: 600, count: 100_000 } : false);
          assert.deepEqual(job.opts.removeOnFail, kind === 'redis' ? { age: 3600 } : false);
        } finally {
          await raw.close();
        }
      });

      if (kind === 'postgres') {
        test('on PostgreSQL finished jobs past their age are swept by the producer, not deleted by BullMQ at each completion', HANG_GUARD, async () => {
          const own = newQueueName();
          const worker = await startQueueWorker({ queue: own, connection: server.url, tasks: { fx: fixture }, threads: 1 });
          // 3 s: time to read the jobs' options before the first sweep takes them, on a loaded machine too.
          const ages = { removeOnComplete: { age: 3 }, removeOnFail: { age: 3 } };
          const producer = new QueueExecutor({ queue: own, connection: server.url, jobOptions: ages });
          // A count stays BullMQ's to apply (only an age alone is swept).
          const counted = new QueueExecutor({ queue: own, connection: server.url, jobOptions: { removeOnComplete: { age: 1, count: 5 } } });
          const raw = rawQueue(server, own);
          try {
            // Each job's options are read as soon as it has finished: all three in turn took over 3 s
            // on a loaded machine, and the first was swept before it was read.
            const optionsOf = async (state, arg) => (await raw.getJobs([state])).find((job) => storedArgs(job.data.a)[0] === arg)?.opts;
            assert.equal(await producer.submit(tasks.echo, 'swept'), 'swept');
            assert.equal((await optionsOf('completed', 'swept'))?.removeOnComplete, false);
            await rejectsWith(producer.submit(tasks.fail, 'swept too'), Error, /swept too/);
            assert.equal((await optionsOf('failed', 'swept too'))?.removeOnFail, false);
            assert.equal(await counted.submit(tasks.echo, 'counted'), 'counted');
            assert.deepEqual((await optionsOf('completed', 'counted'))?.removeOnComplete, { age: 1, count: 5 });
            // Gone within a few sweeps after their third second (a sweep every half the age: 1.5 s). A
            // sweep, like BullMQ's own retention, takes every finished job of the queue past the age: the counted one too.
            await eventuallyAsync(async () => {
              const counts = await raw.getJobCounts('completed', 'failed');
              return counts.completed + counts.failed === 0;
            }, 'the finished jobs to be swept', 15_000);
          } finally {
            await Promise.all([producer.shutdown(), counted.shutdown()]);
            await worker.close();
            await raw.close();
          }
        });
      }

      if (kind === 'postgres') {
        test('on PostgreSQL consents travel by NOTIFY, not as event rows; with those sessions cut, jobs still start, and the sessions come back', HANG_GUARD, async () => {
          const sql = async (text, values) => {
            const client = new pg.Client({ connectionString: server.url });
            await client.connect();
            try {
              return (await client.query(text, values)).rows;
            } finally {
              await client.end();
            }
          };
          // How many consents went as event rows (the ids their START events carry).
          const idsInRows = async () => (await sql(`SELECT coalesce(sum(array_length(string_to_array(data->>'ids', ','), 1)), 0)::int AS n FROM bullmq.event WHERE queue = $1 AND event = 'threadloop:start'`, [`${queue}-threadloop`]))[0].n;
          // (Polled every 50 ms: a server's sessions have no event to wait for.)
          const wires = async () => (await new Promise((resolve) => setTimeout(resolve, 50)), await sql(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'threadloop-consents'`))[0].n;
          const run = (n) => Promise.all(Array.from({ length: n }, (_, i) => executor.submit(tasks.echo, i)));
          let deadline = Date.now() + 30_000;
          // Two workers listening, and the producer's sending session (opened by its first consent)
          // and the one on which it hears workers' asks (pg-consent.ts).
          while ((await wires()) < 4) {
            await run(1);
            assert.ok(Date.now() < deadline, 'two workers listening and a producer sending, on sessions of their own');
          }
          const before = await idsInRows();
          assert.deepEqual(await run(40), Array.from({ length: 40 }, (_, i) => i));
          const asRows = (await idsInRows()) - before;
          assert.ok(asRows < 20, `most of 40 consents went by NOTIFY; ${asRows} went as event rows`);
          const [{ n: cut }] = await sql(`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'threadloop-consents'`);
          assert.ok(cut >= 4, `cut ${cut} sessions`);
          assert.deepEqual(await run(20), Array.from({ length: 20 }, (_, i) => i));
          deadline = Date.now() + 30_000;
          while ((await wires()) < 4) {
            await run(1); // (a sending session opens again with a consent)
            assert.ok(Date.now() < deadline, 'the listeners and the sender back');
          }
          assert.deepEqual(pgQueueWarnings, [], 'consents sent one query at a time');
        });
      }

      if (kind === 'postgres') {
        test("on PostgreSQL a job whose 'active' event its producer never reads still starts: the worker asks on the producer's NOTIFY channel", HANG_GUARD, async () => {
          // BullMQ 6.7's event reader skips events committed out of order. Here a trigger drops
          // this queue's 'active' events and the workers' asks on the stream, so only an ask by
          // NOTIFY (threadloop_ask_…, pg-consent.ts) can bring the producer's consent before its
          // periodic lookup (half a second later) — and that ask is heard here too.
          const own = newQueueName();
          const admin = new pg.Client({ connectionString: server.url });
          await admin.connect();
          const listener = new pg.Client({ connectionString: server.url });
          await listener.connect();
          const drop = `tl_test_drop_${process.pid}`;
          await admin.query(`CREATE FUNCTION bullmq.${drop}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
            IF NEW.queue = '${own}' AND NEW.event IN ('active', 'threadloop:ask') THEN RETURN NULL; END IF; RETURN NEW; END $$`);
          await admin.query(`CREATE TRIGGER ${drop} BEFORE INSERT ON bullmq.event FOR EACH ROW EXECUTE FUNCTION bullmq.${drop}()`);
          const worker = await startQueueWorker({ queue: own, connection: server.url, tasks: { fx: fixture }, threads: 1 });
          const producer = new QueueExecutor({ queue: own, connection: server.url });
          const raw = rawQueue(server, own);
          try {
            assert.equal(await producer.submit(tasks.echo, 'first'), 'first');
            const [first] = await raw.getJobs(['completed']);
            const prefix = first.id.slice(0, first.id.lastIndexOf('-'));
            const channel = `threadloop_ask_${createHash('sha256').update(`${own}\n${prefix}`).digest('hex').slice(0, 24)}`;
            const asked = new Set();
            listener.on('notification', (message) => {
              if (message.channel === channel) for (const id of JSON.parse(message.payload).i.split(',')) asked.add(id);
            });
            await listener.query(`LISTEN ${channel}`);
            const values = await Promise.all([1, 2, 3].map((i) => producer.submit(tasks.echo, i)));
            assert.deepEqual(values, [1, 2, 3]);
            const ids = (await raw.getJobs(['completed'])).map((job) => job.id).filter((id) => id !== first.id);
            assert.equal(ids.length, 3);
            for (const id of ids) assert.ok(asked.has(id), `job ${id} was asked for by NOTIFY (heard: ${[...asked].join(', ') || 'none'})`);
            const [{ n }] = (await admin.query(`SELECT count(*)::int AS n FROM bullmq.event WHERE queue = $1 AND event = 'active'`, [own])).rows;
            assert.equal(n, 0, "no 'active' event of this queue was written for the producer to read");
          } finally {
            await producer.shutdown({ force: true });
            await worker.close();
            await raw.close();
            await admin.query(`DROP TRIGGER IF EXISTS ${drop} ON bullmq.event`);
            await admin.query(`DROP FUNCTION IF EXISTS bullmq.${drop}()`);
            await Promise.all([admin.end(), listener.end()]);
          }
        });
      }

      if (kind === 'postgres') {
        test("on PostgreSQL a job whose 'completed' event its producer never reads settles: the producer asks the server about a running job gone quiet", HANG_GUARD, async () => {
          // A trigger drops this queue's 'completed' events, as BullMQ 6.7's reader skips some
          // (ids committed out of order): short jobs and a long one (asked about as it runs, it
          // must keep waiting) all settle once, with their own values, by the producer's lookups.
          const own = newQueueName();
          const gate = gates();
          const admin = new pg.Client({ connectionString: server.url });
          await admin.connect();
          const drop = `tl_test_dropc_${process.pid}`;
          await admin.query(`CREATE FUNCTION bullmq.${drop}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
            IF NEW.queue = '${own}' AND NEW.event = 'completed' THEN RETURN NULL; END IF; RETURN NEW; END $$`);
          await admin.query(`CREATE TRIGGER ${drop} BEFORE INSERT ON bullmq.event FOR EACH ROW EXECUTE FUNCTION bullmq.${drop}()`);
          const worker = await startQueueWorker({ queue: own, connection: server.url, tasks: { fx: fixture }, threads: 2 });
          const producer = new QueueExecutor({ queue: own, connection: server.url });
          try {
            const long = producer.submit(tasks.hold, gate.dir, 'long');
            for (let i = 0; i < 5; i++) assert.equal(await producer.submit(tasks.echo, i), i);
            assert.deepEqual(await Promise.all(Array.from({ length: 20 }, (_, i) => producer.submit(tasks.echo, `c${i}`))), Array.from({ length: 20 }, (_, i) => `c${i}`));
            assert.equal(long.state, 'running', 'the long job, asked about while it runs, still runs');
            gate.open('long');
            assert.equal(await long, process.pid); // (hold returns its process's pid: the worker runs in this one)
            const [{ n }] = (await admin.query(`SELECT count(*)::int AS n FROM bullmq.event WHERE queue = $1 AND event = 'completed'`, [own])).rows;
            assert.equal(n, 0, "no 'completed' event of this queue was written for the producer to read");
            assert.equal(producer.stats().completed, 26);
          } finally {
            gate.open('long');
            await producer.shutdown({ force: true });
            await worker.close();
            await admin.query(`DROP TRIGGER IF EXISTS ${drop} ON bullmq.event`);
            await admin.query(`DROP FUNCTION IF EXISTS bullmq.${drop}()`);
            await admin.end();
            gate.remove();
          }
        });
      }

      if (kind === 'postgres') {
        test("on PostgreSQL a job's completion that a deadlock rolls back is run again: the job finishes, not fails", HANG_GUARD, async () => {
          // A session holds the event table (a completion writes its 'completed' event there) and
          // then asks for the finishing job's row, which the completion holds: a deadlock, whose
          // victim PostgreSQL makes the completion (it waited first; this session checks late).
          const own = newQueueName();
          const gate = gates();
          const admin = new pg.Client({ connectionString: server.url });
          const watch = new pg.Client({ connectionString: server.url });
          await Promise.all([admin.connect(), watch.connect()]);
          const worker = await startQueueWorker({ queue: own, connection: server.url, tasks: { fx: fixture }, threads: 1 });
          const producer = new QueueExecutor({ queue: own, connection: server.url });
          try {
            const future = producer.submit(tasks.hold, gate.dir, 'locked');
            await eventually(() => gate.startedBy('locked').length === 1, { what: 'the job to start', timeoutMs: 30_000 });
            await admin.query('BEGIN');
            await admin.query("SET LOCAL deadlock_timeout = '60s'");
            await admin.query('LOCK TABLE bullmq.event IN SHARE MODE');
            gate.open('locked');
            // (Polled: a session waiting for a lock has no event to wait for.)
            const completing = async () => (await watch.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%move_to_completed%'")).rows[0].n > 0;
            while (!(await completing())) await new Promise((resolve) => setTimeout(resolve, 10));
            const { rows } = await watch.query(`SELECT id FROM bullmq.job WHERE queue = $1 AND state = 'active'`, [own]);
            assert.equal(rows.length, 1);
            await admin.query('SELECT 1 FROM bullmq.job WHERE queue = $1 AND id = $2 FOR UPDATE', [own, rows[0].id]); // (the deadlock: the completion rolls back)
            await admin.query('ROLLBACK');
            assert.equal(await future, process.pid);
            const { rows: [job] } = await watch.query('SELECT state FROM bullmq.job WHERE queue = $1 AND id = $2', [own, rows[0].id]);
            assert.equal(job.state, 'completed');
          } finally {
            gate.open('locked');
            await admin.query('ROLLBACK').catch(() => {});
            await producer.shutdown({ force: true });
            await worker.close();
            await Promise.all([admin.end(), watch.end()]);
            gate.remove();
          }
        });
      }

      test('a task error comes back with its class, code, own properties, cause, remote stack and worker', HANG_GUARD, async () => {
        const error = await rejectsWith(executor.submit(tasks.fail, 'bad input'), RangeError, /bad input/);
        assert.equal(error.code, 'E_FIXTURE');
        assert.deepEqual(error.detail, { n: 42n });
        assert.ok(error.cause instanceof TypeError);
        assert.equal(error.cause.message, 'the inner cause');
        assert.match(error.stack, /queue-tasks\.js/);
        assert.ok(workers.some((w) => w.pid === error.worker.pid));
        assert.equal(typeof error.worker.host, 'string');
      });

      test('two worker processes share the queue', HANG_GUARD, async () => {
        // Held until both have started some: one worker holds 8 at most (2 slots, 3 ahead each),
        // so the other takes its share however late it comes (short jobs let a stalled one miss out).
        const gate = gates();
        try {
          const futures = Array.from({ length: 20 }, () => executor.submit(tasks.hold, gate.dir, 'share'));
          await eventually(() => new Set(gate.startedBy('share')).size === 2, { what: 'both workers to start jobs', timeoutMs: 30_000 });
          gate.open('share');
          const pids = new Set(await Promise.all(futures));
          assert.deepEqual([...pids].sort(), workers.map((w) => w.pid).sort());
        } finally {
          gate.open('share');
          gate.remove();
        }
      });

      test('a worker takes no job ahead that another worker could start: a long job does not hold up the next', HANG_GUARD, async () => {
        // Workers held twice their concurrency, to hide the wait for consent: a worker running a
        // long job held the next one too, while a worker started meanwhile sat idle.
        const own = newQueueName();
        const gate = gates();
        const first = await startWorker(server, own, ['--threads', '1', '--concurrency', '1']);
        const producer = new QueueExecutor({ queue: own, connection: server.url });
        let second;
        try {
          const long = producer.submit(tasks.hold, gate.dir, 'long');
          await eventually(() => gate.startedBy('long').length === 1 && long.state === 'running', { what: 'the long job to start', timeoutMs: 10_000 });
          // Sent once the long one runs: submitted together, PostgreSQL may start the second first.
          const next = producer.submit(tasks.sleep, 1);
          second = await startWorker(server, own, ['--threads', '1', '--concurrency', '1']);
          assert.equal(await next.result({ timeoutMs: 20_000 }), second.pid, 'the next job ran on the idle worker, while the long one still runs');
          assert.equal(long.state, 'running');
          gate.open('long');
          assert.equal(await long, first.pid);
        } finally {
          await producer.shutdown({ force: true }); // a failed assertion may leave a gated job running: nothing is waited for
          await Promise.all([first, second].filter(Boolean).map(stopWorker));
          gate.remove();
        }
      });

      test('map over 10,000 items keeps a bounded window, in order', HANG_GUARD, async () => {
        // 10,000 items in jobs of 25 (400 jobs): one job per item would be 10,000 server round trips
        // per backend per Node version in CI, and tests the same code path as the 1,000-job test.
        // What a user relies on is checked: the input is read lazily, the server never holds more
        // than `concurrency` of the map's jobs, and every result arrives, in order.
        const concurrency = 16;
        const chunkSize = 25;
        let pulled = 0;
        function* items() {
          for (let i = 0; i < 10_000; i++) {
            pulled++;
            yield i;
          }
        }
        const raw = rawQueue(server, queue);
        let mostOnServer = 0;
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            const counts = await raw.getJobCounts('waiting', 'active', 'prioritized', 'delayed');
            mostOnServer = Math.max(mostOnServer, Object.values(counts).reduce((a, b) => a + b, 0));
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        })();
        let index = 0;
        let mostInFlight = 0;
        let mostAhead = 0;
        try {
          for await (const square of executor.map(tasks.square, items(), { concurrency, chunkSize })) {
            assert.equal(square, index * index);
            index++;
            const { queued, running } = executor.stats();
            mostInFlight = Math.max(mostInFlight, queued + running);
            mostAhead = Math.max(mostAhead, pulled - index);
          }
        } finally {
          sampling = false;
          await sampler;
          await raw.close();
        }
        assert.equal(index, 10_000);
        assert.ok(mostInFlight <= concurrency, `at most ${concurrency} jobs in flight (stats), saw ${mostInFlight}`);
        assert.ok(mostOnServer <= concurrency, `at most ${concurrency} jobs on the server, saw ${mostOnServer}`);
        assert.ok(mostAhead <= (concurrency + 1) * chunkSize, `input read lazily: at most ${(concurrency + 1) * chunkSize} items ahead of the results, saw ${mostAhead}`);
      });

      test('1,000 jobs: every future settles exactly once, with its own result', HANG_GUARD, async () => {
        const before = executor.stats().completed;
        const calls = new Map();
        const futures = Array.from({ length: 1000 }, (_, i) => {
          const future = executor.submit(tasks.echo, i);
          future.addDoneCallback(() => calls.set(i, (calls.get(i) ?? 0) + 1));
          return future;
        });
        const { done, notDone } = await wait(futures);
        assert.equal(done.size, 1000);
        assert.equal(notDone.size, 0);
        assert.deepEqual(await Promise.all(futures), Array.from({ length: 1000 }, (_, i) => i));
        await executor.idle();
        assert.equal(calls.size, 1000);
        assert.ok([...calls.values()].every((n) => n === 1));
        assert.equal(executor.stats().completed - before, 1000);
      });

      test('cancel() withdraws a waiting job from the server', HANG_GUARD, async () => {
        const idleQueue = newQueueName(); // no worker takes jobs here
        const producer = new QueueExecutor({ queue: idleQueue, connection: server.url, maxQueue: 1 });
        const raw = rawQueue(server, idleQueue);
        try {
          const future = producer.submit(tasks.echo, 1);
          assert.throws(() => producer.submit(tasks.echo, 2), QueueFullError);
          await eventuallyAsync(async () => (await raw.getJobCounts('waiting')).waiting === 1, 'the job to be in the queue');
          assert.equal(future.cancel(), true);
          await rejectsWith(future, CancelledError);
          assert.equal(future.state, 'cancelled');
          await eventuallyAsync(async () => (await raw.getJobCounts('waiting')).waiting === 0, 'the job to be removed');
        } finally {
          await producer.shutdown({ force: true }); // a failed assertion may leave a gated job running: nothing is waited for
          await raw.close();
        }
      });

      test('cancel() returns true only for a job that never starts, even as workers are taking it', HANG_GUARD, async () => {
        const gate = gates();
        const raw = rawQueue(server, queue);
        try {
          const futures = Array.from({ length: 300 }, (_, i) => executor.submit(tasks.touch, gate.dir, `j${i}`));
          // Cancel at the head of the queue, where the workers are taking jobs: the producer still
          // sees a job pending while a worker may already hold it.
          const cancelled = new Set();
          let refused = 0;
          let seen = 0;
          while (futures.some((f) => !f.done())) {
            // Each time the producer hears that a worker took a job, the next one is being taken.
            const moved = futures.filter((f) => f.state !== 'pending').length;
            const head = futures.findIndex((f) => f.state === 'pending');
            if (head >= 0 && moved > seen) {
              if (futures[head].cancel()) cancelled.add(head);
              else refused++;
              seen = moved + 1;
            }
            await new Promise((resolve) => setImmediate(resolve));
          }
          await executor.idle();
          // Every job is gone from the server: none left that could still start later.
          await eventuallyAsync(async () => {
            const counts = await raw.getJobCounts('waiting', 'active', 'prioritized', 'delayed');
            return Object.values(counts).every((n) => n === 0);
          }, 'every job to leave the queue');
          const started = new Set(readdirSync(gate.dir).filter((f) => f.startsWith('started-')).map((f) => Number(f.split('-')[1].slice(1))));
          const liars = [...cancelled].filter((i) => started.has(i));
          assert.deepEqual(liars, [], `cancel() returned true, yet the job started: ${liars.join(', ')}`);
          assert.ok(cancelled.size > 0 && cancelled.size < 300, `some jobs cancelled, some run (${cancelled.size} cancelled)`);
          for (const [i, future] of futures.entries()) {
            if (cancelled.has(i)) assert.equal(future.state, 'cancelled');
            else assert.equal(await future, `j${i}`);
          }
          assert.equal(started.size, 300 - cancelled.size, 'every job not cancelled ran');
          // The cancels that met a worker holding the job: it was told, and failed it without starting it.
          const met = (await raw.getJobs(['failed'])).filter((job) => /the future was cancelled|cancelled by its producer/.test(job.failedReason ?? '')).length;
          console.log(`cancel race on ${kind}: ${cancelled.size} cancelled (${met} of them already taken by a worker, which never started them), ${refused} refused`);
        } finally {
          await raw.close();
          gate.remove();
        }
      });

      test("aborting a running job's signal fires currentTask().signal in the worker process", HANG_GUARD, async () => {
        const gate = gates();
        try {
          const controller = new AbortController();
          const future = executor.submit(tasks.hold.with({ signal: controller.signal }), gate.dir, 'abort');
          await eventually(() => gate.startedBy('abort').length === 1 && future.state === 'running', { what: 'the job to start', timeoutMs: 10_000 });
          assert.equal(future.cancel(), false, 'a running job is not cancelled by cancel()');
          controller.abort(new Error('user hit stop'));
          const error = await rejectsWith(future, AbortError);
          assert.equal(error.worker.pid, gate.startedBy('abort')[0]);
        } finally {
          gate.remove();
        }
      });

      test('timeoutMs counts from when a worker starts the job', HANG_GUARD, async () => {
        const error = await rejectsWith(executor.submit(tasks.sleep.with({ timeoutMs: 200 }), 60_000), TimeoutError);
        assert.ok(workers.some((w) => w.pid === error.worker.pid));
      });

      test('an unregistered task fails with TaskNotFoundError; unnamed and inline tasks are refused at submit', HANG_GUARD, async () => {
        const other = taskModule(fixture, { name: 'elsewhere' });
        await rejectsWith(executor.submit(other.echo, 1), TaskNotFoundError, /no task module for 'elsewhere\.echo'/);
        await rejectsWith(executor.submit(tasks.noSuchExport), TaskNotFoundError);
        assert.throws(() => executor.submit(taskModule(fixture).echo, 1), (e) => e instanceof TaskSerializationError && /taskModule\(url, \{ name/.test(e.message));
        assert.throws(() => executor.submit((x) => x, 1), (e) => e instanceof TaskSerializationError && /no code travels/.test(e.message));
      });

      test('an oversized payload fails at submit, naming the limit; an oversized result fails the job', HANG_GUARD, async () => {
        const small = new QueueExecutor({ queue, connection: server.url, maxPayloadBytes: 4096 });
        try {
          assert.throws(() => small.submit(tasks.echo, new Uint8Array(10_000)), (e) => e instanceof TaskSerializationError && /4096 bytes \(maxPayloadBytes\)/.test(e.message));
          // Counted in bytes, whichever form they take: ten short strings of 3-byte characters are 2,592 characters, 7,712 bytes as JSON.
          assert.throws(() => small.submit(tasks.list, ...Array(10).fill('中'.repeat(256))), (e) => e instanceof TaskSerializationError && /4096 bytes \(maxPayloadBytes\)/.test(e.message));
          await rejectsWith(executor.submit(tasks.bigResult, 2 * 1024 * 1024), TaskSerializationError, /result of 'fx\.bigResult'.*maxPayloadBytes/);
        } finally {
          await small.shutdown();
        }
      });

      test('a deeply nested argument fails at submit, saying so; one the worker can rebuild arrives', HANG_GUARD, async () => {
        const nest = (depth) => { let v = {}; for (let i = 0; i < depth; i++) v = { c: v }; return v; };
        assert.deepEqual(await executor.submit(tasks.echo, nest(900)), nest(900));
        // 1,000 levels, as a pool takes (the argument list is not one of them: it was).
        assert.deepEqual(await executor.submit(tasks.echo, nest(999)), nest(999));
        // A 3,000-deep one had been queued, and the worker, whose deserializer ran out of stack,
        // failed it as "arguments this worker cannot read (not made by a threadloop QueueExecutor?)";
        // a 20,000-deep one failed at submit with a bare "Maximum call stack size exceeded".
        for (const depth of [3000, 20_000]) {
          assert.throws(() => executor.submit(tasks.echo, nest(depth)), (e) => e instanceof TaskSerializationError && /arguments of 'fx\.echo'.*argument 0 is nested more than 1000 levels deep/.test(e.message));
        }
        assert.equal(await executor.submit(tasks.echo, 1), 1);
      });

      test('close({ graceMs }) honours a grace of 2^31 ms or Infinity, and refuses NaN or a negative one', HANG_GUARD, async () => {
        const own = newQueueName(); // not the CLI workers' queue: this job must run on this worker
        const worker = await startQueueWorker({ queue: own, connection: server.url, tasks: { fx: fixture }, threads: 1 });
        const producer = new QueueExecutor({ queue: own, connection: server.url });
        try {
          const job = producer.submit(tasks.sleep, 500);
          await eventually(() => worker.stats().running === 1, { what: 'the job to start', timeoutMs: 10_000 });
          await assert.rejects(worker.close({ graceMs: NaN }), TypeError);
          await assert.rejects(worker.close({ graceMs: -1 }), RangeError);
          // setTimeout fires at once for 2^31 ms and more (and NaN): the job was handed back at once.
          await worker.close({ graceMs: 2 ** 31 });
          assert.deepEqual({ ...worker.stats() }, { running: 0, completed: 1, failed: 0, requeued: 0 });
          assert.equal(typeof (await job), 'number');
        } finally {
          await worker.close();
          await producer.shutdown({ force: true }); // a failed assertion may leave a gated job running: nothing is waited for
        }
      });

      test('a job waiting for a run slot is stopped by its abort, and handed back by close(), as a running one', HANG_GUARD, async () => {
        // Each wait hooks into the job's stop in turn (consent, run slot, the task): a stop that
        // reached only the running task would leave these waiting.
        const own = newQueueName();
        const gate = gates();
        const raw = rawQueue(server, own);
        const first = await startQueueWorker({ queue: own, connection: server.url, tasks: { fx: fixture }, threads: 1, concurrency: 1 });
        const producer = new QueueExecutor({ queue: own, connection: server.url });
        let second;
        try {
          // Short jobs first: a worker takes jobs ahead of its slots only once it has seen that its
          // jobs are short (JobHolding), and the jobs below must be taken while the first one runs.
          await Promise.all(Array.from({ length: 3 }, (_, i) => producer.submit(tasks.echo, i)));
          const running = producer.submit(tasks.hold, gate.dir, 'running');
          await eventually(() => gate.startedBy('running').length === 1, { what: 'the first job to start', timeoutMs: 10_000 });
          const controller = new AbortController();
          const aborted = producer.submit(tasks.hold.with({ signal: controller.signal }), gate.dir, 'aborted');
          await eventually(() => aborted.state === 'running', { what: 'the consent to the second job', timeoutMs: 10_000 });
          controller.abort(new Error('user hit stop'));
          await rejectsWith(aborted, AbortError);
          assert.deepEqual(gate.startedBy('aborted'), [], 'it never started');
          const waiting = producer.submit(tasks.hold, gate.dir, 'waiting');
          await eventually(() => waiting.state === 'running', { what: 'the consent to the third job', timeoutMs: 10_000 });
          await first.close({ graceMs: 0 });
          // Handing the jobs back wakes BullMQ's fetch still in flight, which may take one of them
          // again as the worker closes: it goes back again, never started (it hung close() once).
          assert.deepEqual(gate.startedBy('waiting'), [], 'the job waiting for a slot never started');
          assert.equal((await raw.getJobCounts('waiting')).waiting, 2, 'the running job and the one waiting for a slot are back in the queue');
          assert.equal(first.stats().requeued, 2);
          second = await startQueueWorker({ queue: own, connection: server.url, tasks: { fx: fixture }, threads: 2, concurrency: 2 });
          gate.open('running');
          gate.open('waiting');
          await Promise.all([running, waiting]);
          assert.equal(second.stats().completed, 2);
        } finally {
          await first.close();
          await second?.close();
          await producer.shutdown({ force: true }); // a failed assertion may leave a gated job running: nothing is waited for
          await raw.close();
          gate.remove();
        }
      });

      test('takeAhead: false: a worker takes a job only when a run slot is free, so one waiting stays pending and cancellable', HANG_GUARD, async () => {
        // With take-ahead (the default) the second job here would be taken and consented while the
        // first runs — running, and cancel() false — as the test above shows.
        const { own, gate, raw, producer, first, end } = await oneSlotBusy(server, { takeAhead: false });
        try {
          const second = producer.submit(tasks.hold, gate.dir, 'second');
          await eventuallyAsync(async () => (await raw.getJobCounts('waiting')).waiting === 1, 'the second job to be in the queue');
          // No event says a job was not taken: taken ahead, it would be running within milliseconds.
          await new Promise((resolve) => setTimeout(resolve, 300));
          assert.equal(second.state, 'pending');
          assert.equal((await raw.getJobCounts('waiting')).waiting, 1, 'still in the queue, not held by the worker');
          assert.equal(second.cancel(), true);
          await rejectsWith(second, CancelledError);
          gate.open('first');
          await first;
          assert.equal(await producer.submit(tasks.echo, 'next'), 'next', 'the free slot takes the next job');
          assert.deepEqual(gate.startedBy('second'), [], 'the cancelled job never started');
          await assert.rejects(startQueueWorker({ queue: own, connection: server.url, tasks: { fx: fixture }, takeAhead: 'no' }), /takeAhead must be a boolean, got/);
        } finally {
          await end();
        }
      });

      test('a job sent with nothing else in flight, to a fleet that took the last one at once, is committed: running from the submit', HANG_GUARD, async () => {
        const own = newQueueName();
        const worker = await startQueueWorker({ queue: own, connection: server.url, tasks: { fx: fixture }, threads: 1, concurrency: 2 });
        const producer = new QueueExecutor({ queue: own, connection: server.url });
        const careful = new QueueExecutor({ queue: own, connection: server.url, commitWhenIdle: false });
        const raw = rawQueue(server, own);
        // The consents said: a worker of an older version, which does not read the go-ahead, asks for one.
        const said = new Set();
        const hearing = await hearConsents(server, own, (ids) => ids.forEach((id) => said.add(id)));
        const asker = rawEventsProducer(server, own);
        try {
          // Before it has heard one of its jobs taken, and its check has found the worker, a producer knows nothing of the fleet's room.
          const first = producer.submit(tasks.echo, 0);
          assert.equal(first.state, 'pending');
          assert.equal(await first, 0);
          await eventually(() => producer.stats().workers >= 1, { what: 'the producer to count the worker', timeoutMs: 10_000 });
          // One at a time, each taken at once (within 10 ms) by the idle worker: the next is committed.
          // (A loaded machine may take some longer: 200 of a few milliseconds each.)
          let committed;
          for (let i = 1; i <= 200 && committed === undefined; i++) {
            const future = producer.submit(tasks.echo, i);
            if (future.state === 'running') committed = { future, i };
            else assert.equal(await future, i);
          }
          assert.ok(committed !== undefined, 'one of 200 jobs sent one at a time to an idle worker was committed');
          assert.equal(producer.stats().running, 1, 'it counts as running');
          assert.equal(committed.future.cancel(), false, 'a committed job is not taken back');
          assert.equal(await committed.future, committed.i);
          // A task with a signal is never committed: its abort can take it back while it waits.
          const controller = new AbortController();
          const abortable = producer.submit(tasks.echo.with({ signal: controller.signal }), 'signal');
          assert.equal(abortable.state, 'pending');
          assert.equal(await abortable, 'signal');
          // In flight, a job is not committed: the next one waits for its consent.
          const held = producer.submit(tasks.echo, 'a');
          const next = producer.submit(tasks.echo, 'b');
          assert.equal(next.state, 'pending');
          assert.deepEqual(await Promise.all([held, next]), ['a', 'b']);
          // commitWhenIdle: false commits none, however fast its jobs are taken.
          for (let i = 0; i < 5; i++) {
            const future = careful.submit(tasks.echo, i);
            assert.equal(future.state, 'pending');
            assert.equal(await future, i);
          }
          assert.throws(() => new QueueExecutor({ queue: own, connection: server.url, commitWhenIdle: 'yes' }), /commitWhenIdle must be a boolean, got "yes"/);
          const go = (await raw.getJobs(['completed'])).filter((job) => job.data.g === 1 && storedArgs(job.data.a)[0] === committed.i);
          assert.equal(go.length, 1, 'the committed job carried the go-ahead');
          // No consent was said for it unasked (one would have been said as the producer heard it
          // taken, before it heard it finished: before this marker, said after its future settled)…
          await hearing.mark('marker-1');
          assert.ok(!said.has(go[0].id), `no consent said unasked for the committed job ${go[0].id}`);
          // … but asked as a worker that does not read the go-ahead asks (on the queue's own stream), the producer answers.
          await asker.publishEvent({ eventName: 'threadloop:ask', ids: go[0].id });
          await eventually(() => said.has(go[0].id), { what: `a consent said for the committed job ${go[0].id}, asked for`, timeoutMs: 10_000 });
        } finally {
          await asker.close();
          await hearing.stop();
          await raw.close();
          await worker.close();
          await producer.shutdown({ force: true });
          await careful.shutdown({ force: true });
        }
      });

      test('a committed job starts without its producer\'s consent; any other waits for it', HANG_GUARD, async () => {
        // Jobs of a producer that never speaks, as a QueueExecutor would send them: one committed (g: 1), one not.
        const own = newQueueName();
        const raw = rawQueue(server, own);
        const worker = await startQueueWorker({ queue: own, connection: server.url, tasks: { fx: fixture }, threads: 1, concurrency: 2 });
        try {
          await raw.add('fx.echo', { v: 1, a: '~["asks"]', p: 'silentproducer' }, { jobId: 'silentproducer-1' });
          await eventuallyAsync(async () => (await raw.getJobState('silentproducer-1')) === 'active', 'the worker to take the first job');
          await raw.add('fx.echo', { v: 1, a: '~["committed"]', p: 'silentproducer', g: 1 }, { jobId: 'silentproducer-2' });
          await eventuallyAsync(async () => (await raw.getJobState('silentproducer-2')) === 'completed', 'the committed job to complete');
          assert.equal(storedArgs((await raw.getJob('silentproducer-2')).returnvalue.r), 'committed');
          // (It runs after PRODUCER_SILENCE_MS, 10 s: the producer counted gone.)
          assert.equal(await raw.getJobState('silentproducer-1'), 'active', 'the other still waits for its consent');
          assert.equal(worker.stats().running, 0, 'held, not started');
        } finally {
          await worker.close({ graceMs: 0 });
          await raw.close();
        }
      });

      test('shutdown({ force: true }) ends every job at once, even one handed back with no worker left', HANG_GUARD, async () => {
        // It ignored force and waited for running jobs: for ever, for one a stopping worker had
        // handed back (still running, as its future goes) with no other worker to take it.
        const { gate, raw, worker, producer, first, end } = await oneSlotBusy(server);
        try {
          const second = producer.submit(tasks.hold, gate.dir, 'second');
          await eventually(() => second.state === 'running', { what: 'the second job to be taken ahead', timeoutMs: 10_000 });
          const third = producer.submit(tasks.echo, 3); // waiting in the queue
          await worker.close({ graceMs: 0 }); // both held jobs go back to the queue; no worker is left
          assert.equal(second.state, 'running');
          await within(producer.shutdown({ force: true }), 10_000, 'shutdown({ force: true })');
          for (const future of [first, second, third]) await rejectsWith(future, CancelledError);
          await eventuallyAsync(async () => (await raw.getJobCounts('waiting', 'active')).waiting === 0, 'the jobs to be taken out of the queue');
          assert.deepEqual(gate.startedBy('second'), [], 'the second job never started');
        } finally {
          await end();
        }
      });

      test('a job its producer aborted is not handed back by a close() that comes while its task is stopping', HANG_GUARD, async () => {
        // Handed back, another worker would run the job its producer stopped (a cancel is only
        // remembered for a while, by the workers that heard it).
        const own = newQueueName();
        const gate = gates();
        const raw = rawQueue(server, own);
        const worker = await startQueueWorker({ queue: own, connection: server.url, tasks: { fx: fixture }, threads: 1, concurrency: 1, abortGraceMs: 60_000 });
        const producer = new QueueExecutor({ queue: own, connection: server.url });
        try {
          const controller = new AbortController();
          const future = producer.submit(tasks.holdThroughAbort.with({ signal: controller.signal }), gate.dir, 'stubborn');
          await eventually(() => gate.startedBy('stubborn').length === 1, { what: 'the job to start', timeoutMs: 10_000 });
          controller.abort(new Error('user hit stop'));
          await eventually(() => existsSync(join(gate.dir, 'aborted-stubborn')), { what: 'the task to hear its abort', timeoutMs: 10_000 });
          const closed = worker.close({ graceMs: 0 });
          await new Promise((resolve) => setTimeout(resolve, 1)); // after the grace's timer, not a wait for time
          gate.open('stubborn'); // the task ends: the pool then settles its call with the abort
          await within(closed, 30_000, 'close()');
          assert.deepEqual({ ...worker.stats() }, { running: 0, completed: 0, failed: 1, requeued: 0 });
          const counts = await raw.getJobCounts('waiting', 'failed');
          assert.deepEqual(counts, { waiting: 0, failed: 1 }, 'failed, not back in the queue');
          await rejectsWith(future, AbortError);
        } finally {
          await worker.close();
          await producer.shutdown({ force: true }); // a failed assertion may leave a gated job running: nothing is waited for
          await raw.close();
          gate.remove();
        }
      });

      test('resultSync() refuses with DeadlockError: results arrive through the event loop', HANG_GUARD, async () => {
        const future = executor.submit(tasks.echo, 1);
        assert.throws(() => future.resultSync(), DeadlockError);
        assert.equal(await future.result({ timeoutMs: 30_000 }), 1);
      });

      test('a failing task is retried only when asked: task.with({ attempts, backoff })', HANG_GUARD, async () => {
        const gate = gates();
        const runs = (name) => readdirSync(gate.dir).filter((f) => f.startsWith(`run-${name}-`)).length;
        try {
          await rejectsWith(executor.submit(tasks.flaky, gate.dir, 'once', 1), RangeError, /run 1 of 'once' fails/);
          assert.equal(runs('once'), 1, 'not retried unless asked');
          assert.equal(await executor.submit(tasks.flaky.with({ attempts: 3, backoff: 10 }), gate.dir, 'third', 2), 3);
          await rejectsWith(executor.submit(tasks.flaky.with({ attempts: 2, backoff: { type: 'exponential', delayMs: 10 } }), gate.dir, 'never', 5), RangeError, /run 2 of 'never' fails/);
          assert.equal(runs('never'), 2, 'the final error is the last attempt\'s');
        } finally {
          gate.remove();
        }
      });

      test('task.with({ attempts, backoff, priority }) become the job\'s BullMQ options', HANG_GUARD, async () => {
        const idleQueue = newQueueName(); // no worker takes jobs here
        const producer = new QueueExecutor({ queue: idleQueue, connection: server.url });
        const raw = rawQueue(server, idleQueue);
        try {
          const future = producer.submit(tasks.echo.with({ attempts: 4, backoff: { type: 'exponential', delayMs: 250 }, priority: 7 }), 1);
          await eventuallyAsync(async () => (await raw.getJobs(['prioritized'])).length === 1, 'the job to be in the queue');
          const [job] = await raw.getJobs(['prioritized']);
          assert.equal(job.opts.attempts, 4);
          assert.deepEqual(job.opts.backoff, { type: 'exponential', delay: 250 });
          assert.equal(job.opts.priority, 7);
          assert.equal(future.cancel(), true);
        } finally {
          await producer.shutdown({ force: true }); // a failed assertion may leave a gated job running: nothing is waited for
          await raw.close();
        }
      });

      test('a producer killed with jobs in the queue: workers count it gone after its silence and run them', HANG_GUARD, async () => {
        const own = newQueueName();
        const producer = track(spawn(process.execPath, [new URL('./fixtures/queue-producer.js', import.meta.url).pathname, server.url, own, '6'], { stdio: ['ignore', 'pipe', 'inherit'] }));
        await lineMatching(producer, producer.stdout, /submitted/, 'the producer');
        producer.kill('SIGKILL');
        const worker = await startWorker(server, own);
        const raw = rawQueue(server, own);
        try {
          // No consent will come: after 10 s of silence from their producer, the worker runs them.
          await eventuallyAsync(async () => (await raw.getJobCounts('completed')).completed === 6, 'the jobs to run', 30_000);
          assert.deepEqual((await raw.getJobs(['completed'])).map((job) => job.name), Array(6).fill('fx.echo'));
        } finally {
          await raw.close();
          await stopWorker(worker);
        }
      });

      test('kill -9 of a worker mid-job: the stall check runs the job again on the other worker', HANG_GUARD, async () => {
        const own = newQueueName();
        const gate = gates();
        const pair = await Promise.all([startWorker(server, own), startWorker(server, own)]);
        const producer = new QueueExecutor({ queue: own, connection: server.url });
        try {
          const future = producer.submit(tasks.hold, gate.dir, 'k');
          await eventually(() => gate.startedBy('k').length === 1, { what: 'the job to start', timeoutMs: 10_000 });
          const [first] = gate.startedBy('k');
          const victim = pair.find((w) => w.pid === first);
          victim.kill('SIGKILL');
          await victim.exited;
          await eventually(() => gate.startedBy('k').length === 2, { what: 'the job to run again', timeoutMs: 20_000 });
          gate.open('k');
          const pid = await future;
          assert.notEqual(pid, first);
          assert.ok(pair.some((w) => w.pid === pid));
        } finally {
          await producer.shutdown({ force: true }); // a failed assertion may leave a gated job running: nothing is waited for
          await Promise.all(pair.map(stopWorker));
          gate.remove();
        }
      });

      test('SIGTERM: running jobs finish within the grace period; what cannot goes back to the queue', HANG_GUARD, async () => {
        const own = newQueueName();
        const gate = gates();
        const first = await startWorker(server, own, ['--grace-ms', '5000']);
        const producer = new QueueExecutor({ queue: own, connection: server.url });
        const raw = rawQueue(server, own);
        let second;
        try {
          const quick = producer.submit(tasks.hold, gate.dir, 'quick');
          const long = producer.submit(tasks.hold, gate.dir, 'long');
          await eventually(() => gate.startedBy('quick').length === 1 && gate.startedBy('long').length === 1, { what: 'both jobs to start', timeoutMs: 10_000 });
          first.kill('SIGTERM');
          gate.open('quick');
          assert.equal(await quick, first.pid);
          const { code } = await first.exited;
          assert.equal(code, 0);
          assert.equal((await raw.getJobCounts('waiting')).waiting, 1, 'the unfinished job is back in the queue');
          assert.equal(long.done(), false);
          second = await startWorker(server, own);
          await eventually(() => gate.startedBy('long').length === 2, { what: 'the job to run again', timeoutMs: 10_000 });
          gate.open('long');
          assert.equal(await long, second.pid);
        } finally {
          await producer.shutdown({ force: true }); // a failed assertion may leave a gated job running: nothing is waited for
          await raw.close();
          await Promise.all([first, second].filter(Boolean).map(stopWorker));
          gate.remove();
        }
      });

      test(`SIGTERM of a worker whose server is gone: it exits after the grace, ending the task it let go of (on a server of its own, which it takes away)`, HANG_GUARD, async () => {
        const own = kind === 'redis' ? await startRedis() : await startPostgres();
        const queue = newQueueName();
        const gate = gates();
        let worker;
        let stopped;
        const producer = new QueueExecutor({ queue, connection: own.url });
        try {
          worker = await startWorker(own, queue, ['--grace-ms', '500']);
          void producer.submit(tasks.hold, gate.dir, 'forever').catch(() => {}); // (its outcome is lost with the server)
          await eventually(() => gate.startedBy('forever').length === 1, { what: 'the job to start', timeoutMs: 10_000 });
          stopped = own.stop();
          await stopped;
          worker.kill('SIGTERM');
          // It waited on the server for ever: for the job's hand-back, then for BullMQ's close. Now
          // it gives up on the server 5 s after the grace and ends its pool's threads, and the task
          // that never ends with them (the job goes back by the stall check once the server is back).
          const { code, stderr } = await within(worker.exited, 60_000, 'the worker to exit');
          assert.equal(code, 0, stderr);
        } finally {
          await producer.shutdown({ force: true });
          if (worker !== undefined) await stopWorker(worker);
          await (stopped ?? own.stop());
          gate.remove();
        }
      });

      test('a server restart mid-run: producers and workers reconnect, every future settles once', HANG_GUARD, async () => {
        const futures = Array.from({ length: 40 }, (_, i) => executor.submit(tasks.sleep, 50).then(() => i));
        await eventually(() => executor.stats().completed > 0 || executor.stats().running > 0, { what: 'jobs to run', timeoutMs: 10_000 });
        await server.restart();
        assert.deepEqual(await Promise.all(futures), Array.from({ length: 40 }, (_, i) => i));
      });
    });
  }
});

// On each backend this machine has (a machine with only Node runs it on PostgreSQL alone).
for (const kind of found) {
  test(`a server that cannot be reached fails futures after connectionTimeoutMs, and a job failed so is never sent; a worker started before its server waits for it (${kind})`, HANG_GUARD, async () => {
    const port = await freePort(); // nothing listens there
    const url = kind === 'redis' ? `redis://127.0.0.1:${port}` : `postgres://postgres@127.0.0.1:${port}/postgres`;
    const producer = new QueueExecutor({ queue: 'nowhere', connection: url, connectionTimeoutMs: 1500 });
    let server;
    let raw;
    let starting;
    try {
      // It said "lost the queue server …; may still run once it is back" of a server never reached and a job never sent.
      await rejectsWith(producer.submit(tasks.echo, 1), QueueConnectionError, new RegExp(`could not reach the queue server \\S*127\\.0\\.0\\.1:${port}\\S* within 1500 ms \\(connectionTimeoutMs\\): .*ECONNREFUSED.*: it was never sent$`));
      // A worker started before its server waits for it, up to connectionTimeoutMs (on PostgreSQL it failed at once).
      starting = startQueueWorker({ queue: 'nowhere', connection: url, tasks: { fx: fixture }, threads: 1, connectionTimeoutMs: 60_000 });
      starting.catch(() => {}); // (awaited below)
      // … and never will be: once a server comes up there, the failed job is not added after all
      // (it was, and a worker would have run a job its caller had been told failed).
      server = kind === 'redis' ? await startRedis({ port }) : await startPostgres({ port });
      raw = rawQueue(server, 'nowhere');
      const later = producer.submit(tasks.echo, 2); // sent after the failed one would have been
      await within(starting, 30_000, 'the worker to reach the server');
      // The producer hears its outcome too: its event reader, which failed to start (PostgreSQL), reads now.
      assert.equal(await within(later, 10_000, 'the later job to settle'), 2);
      // Only the later job's [2]; the failed one's [1] was never sent.
      const jobs = await raw.getJobs(['waiting', 'active', 'completed', 'failed']);
      assert.deepEqual(jobs.map((job) => storedArgs(job.data.a)), [[2]]);
    } finally {
      // Whatever failed above: a producer or worker left retrying would keep this file's process alive for ever.
      await starting?.then((worker) => worker.close(), () => {});
      await producer.shutdown({ force: true }); // a failed assertion may leave a gated job running: nothing is waited for
      await raw?.close();
      await server?.stop();
    }
  });
}

test('a worker whose server cannot be reached fails to start after connectionTimeoutMs, saying where', HANG_GUARD, async () => {
  const port = await freePort(); // nothing listens there
  const connection = `redis://127.0.0.1:${port}`;
  // It had waited for the server forever, in silence (the CLI printed nothing at all).
  await rejectsWith(startQueueWorker({ queue: 'nowhere', connection, tasks: { fx: fixture }, threads: 1, connectionTimeoutMs: 1000 }), QueueConnectionError, new RegExp(`127\\.0\\.0\\.1:${port}.*connectionTimeoutMs.*ECONNREFUSED`));
  await assert.rejects(startQueueWorker({ queue: 'q', connection, tasks: { fx: fixture }, connectionTimeoutMs: NaN }), /connectionTimeoutMs/);
  const child = track(spawn(process.execPath, [cli, 'worker', '--queue', 'nowhere', '--connection', connection, '--tasks', `fx=${fixture.pathname}`, '--threads', '1', '--connection-timeout-ms', '2500'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const [code] = await new Promise((resolve) => child.once('exit', (...outcome) => resolve(outcome)));
  assert.equal(code, 1, stderr);
  // Meanwhile it says it is still starting (it was silent until it gave up), then why it gave up.
  assert.match(stderr, /^threadloop worker: still starting after 2 s .*gives up after 2500 ms \(--connection-timeout-ms\)\nthreadloop worker: could not reach the queue server .*ECONNREFUSED/m);
});

test('a worker whose task module cannot be loaded fails to start, saying which and why, and takes no job', HANG_GUARD, async () => {
  // It started, said ready, and failed every job it took with the import error: quickly, so a
  // misdeployed worker could fail many jobs the rest of the fleet would have run.
  const connection = `redis://127.0.0.1:${await freePort()}`; // never reached: the modules are loaded first
  for (const [file, why] of [['throw-at-import.js', /Error: THUMBS_BUCKET is not set/], ['missing-import.js', /no-such-dependency/]]) {
    const url = new URL(`./fixtures/${file}`, import.meta.url);
    await rejectsWith(startQueueWorker({ queue: 'q', connection, tasks: { good: fixture, bad: url }, threads: 1 }), TaskNotFoundError, new RegExp(`task module 'bad' \\(${url.href.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\) cannot be loaded.*${why.source}`));
  }
  const child = track(spawn(process.execPath, [cli, 'worker', '--queue', 'q', '--connection', connection, '--tasks', `bad=${new URL('./fixtures/throw-at-import.js', import.meta.url).pathname}`, '--threads', '1'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  const [code] = await new Promise((resolve) => child.once('exit', (...outcome) => resolve(outcome)));
  assert.equal(code, 1, stderr);
  assert.match(stderr, /^threadloop worker: startQueueWorker: task module 'bad' .* cannot be loaded.*THUMBS_BUCKET is not set/m);
  assert.doesNotMatch(stdout, /ready/);
});

test('a worker whose task module never finishes loading fails to start after connectionTimeoutMs, naming it', HANG_GUARD, async () => {
  // It had waited in silence for ever: the import's top-level await never settles.
  const connection = `redis://127.0.0.1:${await freePort()}`; // never reached: the modules are loaded first
  const url = new URL('./fixtures/never-loads.js', import.meta.url);
  const started = performance.now();
  await rejectsWith(startQueueWorker({ queue: 'q', connection, tasks: { good: fixture, stuck: url }, threads: 1, connectionTimeoutMs: 800 }), TaskNotFoundError, /task module 'stuck' .* cannot be loaded.*it did not finish loading within 800 ms \(connectionTimeoutMs\)/);
  assert.ok(performance.now() - started >= 800);
});

test('threadloop worker: a mistaken command line exits with code 2, saying what is wrong, with the usage', HANG_GUARD, async () => {
  const run = async (args) => {
    const child = track(spawn(process.execPath, [cli, 'worker', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    const [code] = await new Promise((resolve) => child.once('exit', (...outcome) => resolve(outcome)));
    return { code, stderr };
  };
  const fx = `fx=${fixture.pathname}`;
  const base = ['--queue', 'q', '--connection', 'redis://127.0.0.1:1'];
  for (const [args, said] of [
    [['--connection', 'redis://127.0.0.1:1', '--tasks', fx], /--queue is required/],
    // The last of two modules under one name won, and every job of the first failed.
    [[...base, '--tasks', fx, '--tasks', fx], /--tasks names 'fx' twice/],
    // These two exited with code 1 and a stack, or misquoted what was typed ('localhost://').
    [[...base, '--tasks', fx, '--threads', '0'], /threads must be an integer >= 1, got number 0/],
    [['--queue', 'q', '--connection', 'localhost:6379', '--tasks', fx], /must start with redis:\/\/.*scheme is 'localhost'; for a host and port, write redis:\/\/localhost:6379/],
    // A password must not be printed: 'default:' is taken for the scheme, the rest is not quoted.
    [['--queue', 'q', '--connection', 'default:s3cret@redis:6379', '--tasks', fx], /scheme is 'default'$/],
    [[...base, '--tasks', `constructor=${fixture.pathname}`, '--tasks', fx, '--threads', '0'], /threads must be an integer >= 1/],
  ]) {
    const { code, stderr } = await run(args);
    assert.equal(code, 2, stderr);
    assert.match(stderr, new RegExp(`^threadloop worker: .*${said.source}`, 'm'));
    assert.match(stderr, /usage: threadloop worker/i);
    assert.doesNotMatch(stderr, /s3cret/);
  }
});

async function eventuallyAsync(condition, what, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
