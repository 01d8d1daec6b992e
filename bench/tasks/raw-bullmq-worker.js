// Raw BullMQ reference for the distributed section: a plain BullMQ Worker whose processor runs
// the shared functions inline. argv: backend url queue concurrency.
import { Worker, createPostgresBackend, withBackend } from 'bullmq';
import { fib, noop } from './functions.js';

const [url, queue, concurrency] = process.argv.slice(2);
const postgres = url.startsWith('postgres');
const { Worker: PgWorker } = withBackend(createPostgresBackend);
const { port } = new URL(url);
const connection = postgres ? { connectionString: url, migrate: true } : { host: '127.0.0.1', port: Number(port) };
const functions = { noop, fib };
const worker = postgres
  ? new PgWorker(queue, async (job) => functions[job.name](job.data), { connection, concurrency: Number(concurrency) })
  : new Worker(queue, async (job) => functions[job.name](job.data), { connection, concurrency: Number(concurrency) });
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.once('SIGTERM', () => worker.close().then(() => process.exit(0)));
