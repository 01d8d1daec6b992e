// Registry of contenders: who runs, in which configuration, on which measurements.
// Metadata only (no library is imported here) so the orchestrator stays light; measure.js imports
// the adapter module in a fresh child process.

/** Measurements a general-purpose pool takes part in (see metrics/index.js). */
const POOL = ['noop-burst', 'noop-window', 'roundtrip', 'cpu', 'payload-clone', 'payload-transfer', 'startup'];

/**
 * id: stable key (CLI filter, JSON); label: the configuration, as printed; adapter: module under
 * contenders/ (omitted for python); options: passed to the adapter; measures: measurement ids;
 * extra: not run unless named with --contenders (configurations explored and found slower);
 * fullOnly: left out of --quick runs (threadloop's variants, Python and piscina's second setting:
 * 37 s of a 162-s quick run on an AMD EPYC VM, whose 2 minutes they do not fit).
 */
export const CONTENDERS = [
  {
    id: 'threadloop',
    label: 'threadloop ThreadPoolExecutor',
    adapter: 'threadloop.js',
    measures: [...POOL, 'sync', 'sync-worker', 'stream'],
  },
  {
    // What a ContextVar costs once used: every call carries a value (ContextVar.run per submit).
    id: 'threadloop-context',
    label: 'threadloop, each call in a ContextVar.run',
    adapter: 'threadloop.js',
    options: { context: true },
    measures: ['noop-burst', 'noop-window'],
    fullOnly: true,
  },
  {
    // What tracing costs once subscribed: no-op handlers on the 'threadloop:task' channel.
    id: 'threadloop-traced',
    label: "threadloop, 'threadloop:task' subscribed",
    adapter: 'threadloop.js',
    options: { tracing: true },
    measures: ['noop-burst', 'noop-window'],
    fullOnly: true,
  },
  { id: 'piscina', label: 'piscina (default)', adapter: 'piscina.js', options: {}, measures: POOL },
  {
    id: 'piscina-c16',
    label: 'piscina concurrentTasksPerWorker:16',
    adapter: 'piscina.js',
    options: { concurrentTasksPerWorker: 16 },
    measures: POOL,
    fullOnly: true, // piscina's default stays in quick runs
  },
  {
    id: 'piscina-c16-noatomics',
    label: "piscina concurrentTasksPerWorker:16 atomics:'disabled'",
    adapter: 'piscina.js',
    options: { concurrentTasksPerWorker: 16, atomics: 'disabled' },
    measures: POOL,
    extra: true,
  },
  {
    id: 'tinypool-c16',
    label: 'tinypool concurrentTasksPerWorker:16',
    adapter: 'tinypool.js',
    options: { concurrentTasksPerWorker: 16 },
    measures: POOL,
  },
  {
    id: 'tinypool',
    label: 'tinypool (default)',
    adapter: 'tinypool.js',
    options: {},
    measures: POOL,
    extra: true,
  },
  {
    id: 'tinypool-c16-noatomics',
    label: 'tinypool concurrentTasksPerWorker:16 useAtomics:false',
    adapter: 'tinypool.js',
    options: { concurrentTasksPerWorker: 16, useAtomics: false },
    measures: POOL,
    extra: true,
  },
  {
    id: 'workerpool',
    label: "workerpool workerType:'thread'",
    adapter: 'workerpool.js',
    options: {},
    measures: POOL,
  },
  {
    id: 'poolifier-q16',
    label: 'poolifier FixedThreadPool tasksQueue concurrency:16, events off',
    adapter: 'poolifier.js',
    options: { enableEvents: false, enableTasksQueue: true, tasksQueueOptions: { concurrency: 16 } },
    measures: POOL,
  },
  {
    id: 'poolifier',
    label: 'poolifier FixedThreadPool (default)',
    adapter: 'poolifier.js',
    options: {},
    measures: POOL,
    extra: true,
  },
  {
    id: 'poolifier-q16-events',
    label: 'poolifier FixedThreadPool tasksQueue concurrency:16',
    adapter: 'poolifier.js',
    options: { enableTasksQueue: true, tasksQueueOptions: { concurrency: 16 } },
    measures: POOL,
    extra: true,
  },
  {
    id: 'poolifier-q16-rr',
    label: 'poolifier FixedThreadPool tasksQueue concurrency:16, events off, ROUND_ROBIN',
    adapter: 'poolifier.js',
    options: {
      enableEvents: false,
      enableTasksQueue: true,
      tasksQueueOptions: { concurrency: 16 },
      workerChoiceStrategy: 'ROUND_ROBIN',
    },
    measures: POOL,
    extra: true,
  },
  { id: 'synckit', label: 'synckit createSyncFn', adapter: 'synckit.js', measures: ['sync'] },
  {
    id: 'python',
    label: 'Python asyncio.to_thread (2 threads; no-op runs of 10k tasks)',
    python: 'python/to_thread.py',
    measures: ['noop-burst', 'noop-window', 'roundtrip', 'cpu', 'startup', 'sync'],
    fullOnly: true,
  },
  {
    id: 'raw-message',
    label: 'raw worker_threads, 1 message per task',
    adapter: 'raw-message.js',
    measures: [...POOL, 'stream', 'sync-worker'],
  },
  {
    id: 'raw-batch',
    label: 'raw worker_threads, 1 message per batch',
    adapter: 'raw-batch.js',
    measures: ['noop-burst', 'noop-window'],
  },
  {
    id: 'raw-sab',
    label: 'raw SharedArrayBuffer ping-pong (spin, then wait)',
    adapter: 'raw-sab.js',
    measures: ['roundtrip', 'sync'],
  },
];

export function findContender(id) {
  const contender = CONTENDERS.find((c) => c.id === id);
  if (!contender) throw new Error(`unknown contender "${id}"; known: ${CONTENDERS.map((c) => c.id).join(', ')}`);
  return contender;
}

/** The contenders to run: the named ones (any, extras included) or every non-extra one (in a quick run, not the full-only ones). */
export function selectContenders(ids, quick = false) {
  return ids ? ids.map(findContender) : CONTENDERS.filter((c) => !c.extra && !(quick && c.fullOnly));
}
