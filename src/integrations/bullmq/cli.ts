#!/usr/bin/env node
/**
 * The `threadloop` command. `threadloop worker` runs one queue worker in this process:
 *
 *     threadloop worker --queue thumbs --connection redis://10.0.0.5:6379 \
 *       --tasks images=./dist/images.js --threads 4
 *
 * SIGTERM or SIGINT stops it gracefully: no new jobs, running ones get `--grace-ms` to finish,
 * the rest go back to the queue. A second signal exits at once (BullMQ's stall check then hands
 * the unfinished jobs to another worker).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { QueueConnectionError } from './errors.js';
import { TaskNotFoundError } from './internals.js';
import { startQueueWorker, type QueueWorkerOptions } from './queue-worker.js';

const usage = `usage: threadloop worker --queue NAME --connection URL --tasks NAME=MODULE [--tasks NAME=MODULE ...]
                        [--threads N | --processes N] [--concurrency N] [--no-take-ahead] [--grace-ms MS]
                        [--lock-duration-ms MS] [--stalled-interval-ms MS] [--max-stalled-count N]
                        [--connection-timeout-ms MS]

  --queue        the BullMQ queue to take jobs from
  --connection   redis://host:port[/db] or postgres://user:password@host:port/db
  --tasks        a task module this worker runs, under its portable name (repeatable)
  --threads      threads of the local pool (default: one per core)
  --processes    use a pool of child processes instead of threads
  --concurrency  jobs running at once (default: the pool's size); for short jobs, three more per slot are taken ahead
  --no-take-ahead
                 take a job only when a run slot is free: a job a producer sees running has started
  --grace-ms     on SIGTERM, how long running jobs may take before they go back to the queue (default 30000)
  --lock-duration-ms, --stalled-interval-ms, --max-stalled-count
                 BullMQ's stall detection: a job whose worker died is run again (defaults 30000, 30000, 1)
  --connection-timeout-ms
                 give up, exiting with code 1, if the server cannot be reached (or a task module's import has not
                 settled) this long at start (default 30000)`;

const numeric = ['threads', 'processes', 'concurrency', 'grace-ms', 'lock-duration-ms', 'stalled-interval-ms', 'max-stalled-count', 'connection-timeout-ms'] as const;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'worker') {
    process.stderr.write(`${command === undefined || command === '--help' || command === '-h' ? '' : `threadloop: unknown command '${command}'\n`}${usage}\n`);
    return command === '--help' || command === '-h' ? 0 : 2;
  }
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        queue: { type: 'string' },
        connection: { type: 'string' },
        tasks: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
        'no-take-ahead': { type: 'boolean' },
        ...Object.fromEntries(numeric.map((name) => [name, { type: 'string' }])),
      },
    }));
  } catch (error) {
    process.stderr.write(`threadloop worker: ${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const fail = (message: string) => {
    process.stderr.write(`threadloop worker: ${message}\n${usage}\n`);
    return 2;
  };
  if (typeof values.queue !== 'string') return fail('--queue is required');
  if (typeof values.connection !== 'string') return fail('--connection is required');
  const tasks = new Map<string, URL>();
  for (const spec of (values.tasks as string[] | undefined) ?? []) {
    const eq = spec.indexOf('=');
    if (eq <= 0) return fail(`--tasks expects NAME=MODULE, got '${spec}'`);
    const name = spec.slice(0, eq);
    if (tasks.has(name)) return fail(`--tasks names '${name}' twice`);
    const path = spec.slice(eq + 1);
    if (!/^[a-z][a-z0-9+.-]*:/i.test(path) && !existsSync(resolve(path))) return fail(`--tasks ${spec}: no such file ${resolve(path)}`);
    tasks.set(name, /^[a-z][a-z0-9+.-]*:/i.test(path) && !/^[a-z]:[\\/]/i.test(path) ? new URL(path) : pathToFileURL(resolve(path)));
  }
  if (tasks.size === 0) return fail('at least one --tasks NAME=MODULE is required');
  const options: QueueWorkerOptions = { queue: values.queue, connection: values.connection, tasks: Object.fromEntries(tasks), ...(values['no-take-ahead'] === true ? { takeAhead: false } : {}) };
  const key = { threads: 'threads', processes: 'processes', concurrency: 'concurrency', 'grace-ms': 'graceMs', 'lock-duration-ms': 'lockDurationMs', 'stalled-interval-ms': 'stalledIntervalMs', 'max-stalled-count': 'maxStalledCount', 'connection-timeout-ms': 'connectionTimeoutMs' } as const;
  for (const name of numeric) {
    const text = values[name];
    if (typeof text !== 'string') continue;
    const n = Number(text);
    if (!Number.isInteger(n)) return fail(`--${name} expects an integer, got '${text}'`);
    (options as unknown as Record<string, number>)[key[name]] = n;
  }

  let worker: Awaited<ReturnType<typeof startQueueWorker>>;
  // A server that is down (or a module slow to load) kept the command silent until it gave up.
  const giveUpMs = options.connectionTimeoutMs ?? 30_000;
  const slow = setTimeout(() => process.stderr.write(`threadloop worker: still starting after 2 s — loading the task modules and reaching the queue server; gives up after ${giveUpMs} ms (--connection-timeout-ms)\n`), 2_000);
  try {
    worker = await startQueueWorker(options);
  } catch (error) {
    // An option's value startQueueWorker refuses (--threads 0, a connection that is not a queue URL): a usage error.
    if ((error instanceof TypeError || error instanceof RangeError) && error.message.startsWith('startQueueWorker: ')) return fail(error.message);
    if (!(error instanceof QueueConnectionError) && !(error instanceof TaskNotFoundError)) throw error;
    process.stderr.write(`threadloop worker: ${error.message}\n`);
    return 1;
  } finally {
    clearTimeout(slow);
  }
  const pool = options.processes !== undefined ? `${options.processes} processes` : `${options.threads ?? 'one thread per core,'} threads`.replace(', threads', '');
  process.stdout.write(`threadloop worker ready: queue '${options.queue}', pid ${process.pid}, tasks ${[...tasks.keys()].join(', ')}, ${pool}\n`);
  return new Promise<number>((done) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`threadloop worker: ${signal} again, exiting now\n`);
        process.exit(1);
      }
      stopping = true;
      process.stdout.write(`threadloop worker: ${signal}, finishing running jobs\n`);
      worker.close().then(
        () => {
          const { completed, failed, requeued } = worker.stats();
          process.stdout.write(`threadloop worker stopped: ${completed} completed, ${failed} failed, ${requeued} handed back\n`);
          done(0);
        },
        (error: unknown) => {
          process.stderr.write(`threadloop worker: ${(error as Error)?.stack ?? String(error)}\n`);
          done(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`threadloop: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
