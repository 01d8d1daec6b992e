/**
 * `threadloop/bullmq`: the same Executor and Future over a fleet of worker processes, through
 * BullMQ 6 on Redis or PostgreSQL. BullMQ does the distribution, retries, stall detection and
 * persistence; this adds the typed tasks, Futures, cancellation that reaches running code, error
 * fidelity, and a local pool on each worker.
 *
 * bullmq (and ioredis, or pg for PostgreSQL) are optional peer dependencies: install them to
 * use this entry point.
 *
 * @example
 * // producer
 * const images = taskModule<typeof import('./images.js')>(new URL('./images.js', import.meta.url), { name: 'images' });
 * await using executor = new QueueExecutor({ queue: 'thumbs', connection: 'redis://127.0.0.1:6379' });
 * const png = await executor.submit(images.thumbnail, 'cat.jpg', 256);
 * // retried on a task error, up to 3 runs, 1 s apart:
 * await executor.submit(images.thumbnail.with({ attempts: 3, backoff: 1000 }), 'dog.jpg', 256);
 * // each worker machine:  npx threadloop worker --queue thumbs --connection redis://… --tasks images=./dist/images.js
 *
 * @module
 */
export { QueueExecutor, type QueueExecutorOptions } from './queue-executor.js';
export { startQueueWorker, type QueueWorker, type QueueWorkerOptions, type QueueWorkerStats } from './queue-worker.js';
export { QueueConnectionError } from './errors.js';
export type { QueueConnection, PostgresConnection } from './backend.js';
export type { WorkerId } from './payload.js';
