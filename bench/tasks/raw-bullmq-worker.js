// Raw BullMQ reference for the distributed section: a plain BullMQ Worker whose processor runs
// the shared functions inline, or (argv[5] 'sandboxed') BullMQ's sandboxed processor in worker
// threads, BullMQ's own way to keep CPU work off the event loop. argv: url queue concurrency [mode].
import { Worker, createPostgresBackend, withBackend } from 'bullmq';
import { fib, noop } from './functions.js';

const [url, queue, concurrency, mode] = process.argv.slice(2);
const postgres = url.startsWith('postgres');
const { Worker: PgWorker } = withBackend(createPostgresBackend);
const { port } = new URL(url);
const connection = postgres ? { connectionString: url, migrate: true } : { host: '127.0.0.1', port: Number(port) };
const functions = { noop, fib };
const processor = mode === 'sandboxed' ? new URL('./raw-bullmq-sandboxed.cjs', import.meta.url) : async (job) => functions[job.name](job.data);
const options = { connection, concurrency: Number(concurrency), ...(mode === 'sandboxed' ? { useWorkerThreads: true } : {}) };
const worker = postgres ? new PgWorker(queue, processor, options) : new Worker(queue, processor, options);
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.once('SIGTERM', () => worker.close().then(() => process.exit(0)));
