// Registry of measurements. Each runs in a fresh child process per contender per round, which
// it may share with others (see lib/jobs.js), with a pool of its own, and yields one or more
// named outputs. `reference` is the raw worker_threads contender its ratios are taken against;
// `group` is what --only selects.

const k = (n) => (n >= 1000 ? `${n / 1000}k` : String(n));

export const MEASUREMENTS = [
  {
    id: 'noop-burst',
    group: 'noop',
    module: 'noop.js',
    run: 'burst',
    title: (c) => `no-op throughput, bursts of ${k(c.noopTasks)} tasks submitted at once, for at least ${c.noopMs} ms`,
    outputs: [{ key: 'opsPerSec', unit: 'tasks/s', better: 'higher' }],
    reference: 'raw-batch',
  },
  {
    id: 'noop-window',
    group: 'noop',
    module: 'noop.js',
    run: 'window',
    title: (c) => `no-op throughput, runs of ${k(c.windowTasks)} tasks with ${k(c.inFlight)} in flight, for at least ${c.noopMs} ms`,
    outputs: [{ key: 'opsPerSec', unit: 'tasks/s', better: 'higher' }],
    reference: 'raw-batch',
  },
  {
    id: 'roundtrip',
    group: 'roundtrip',
    module: 'roundtrip.js',
    run: 'roundtrip',
    title: (c) => `sequential round trip, ${k(c.roundtripCalls)} awaited no-op calls`,
    outputs: [
      { key: 'p50Us', unit: 'µs p50', better: 'lower' },
      { key: 'p99Us', unit: 'µs p99', better: 'lower' },
    ],
    reference: 'raw-message',
  },
  {
    id: 'cpu',
    group: 'cpu',
    module: 'cpu.js',
    run: 'cpu',
    title: (c) => `CPU-bound speed-up, ${c.cpuTasks} × fib(${c.fibN}) on ${c.workers} workers vs serial`,
    outputs: [
      { key: 'speedup', unit: '× speed-up', better: 'higher' },
      { key: 'ofCapacity', unit: 'fraction of the raw speed-up measured alongside', better: 'higher' },
      { key: 'parallelMs', unit: 'ms on the pool', better: 'lower' },
    ],
    reference: 'raw-message',
  },
  {
    id: 'payload-clone',
    group: 'payload',
    module: 'payload.js',
    run: 'clone',
    title: (c) => `1 MiB ArrayBuffer echoed, cloned both ways (${c.payloadInFlight} in flight)`,
    outputs: [
      { key: 'mibPerSec', unit: 'MiB/s', better: 'higher' },
      { key: 'p50Us', unit: 'µs p50 round trip', better: 'lower' },
    ],
    reference: 'raw-message',
  },
  {
    id: 'payload-transfer',
    group: 'payload',
    module: 'payload.js',
    run: 'transfer',
    title: (c) => `1 MiB ArrayBuffer echoed, transferred both ways (${c.payloadInFlight} in flight)`,
    outputs: [
      { key: 'mibPerSec', unit: 'MiB/s', better: 'higher' },
      { key: 'p50Us', unit: 'µs p50 round trip', better: 'lower' },
    ],
    reference: 'raw-message',
  },
  {
    id: 'startup',
    group: 'startup',
    module: 'startup.js',
    run: 'startup',
    // Idle memory is measured from this process's own baseline: no pool may have run before.
    alone: true,
    title: (c) => `pool start, and idle RSS of a warmed-up ${c.workers}-worker pool`,
    outputs: [
      { key: 'startMs', unit: 'ms to first result', better: 'lower' },
      { key: 'idleRssMiB', unit: 'MiB RSS delta', better: 'lower' },
      { key: 'idlePrivateMiB', unit: 'MiB private memory delta (RSS without file-backed pages)', better: 'lower' },
    ],
    reference: 'raw-message',
  },
  {
    id: 'stream',
    group: 'stream',
    module: 'stream.js',
    run: 'stream',
    title: (c) => `streamed results, ${k(c.streamChunks)} chunks from one async generator task`,
    outputs: [{ key: 'chunksPerSec', unit: 'chunks/s', better: 'higher' }],
    reference: 'raw-message',
  },
  {
    id: 'sync',
    group: 'sync',
    module: 'sync.js',
    run: 'sync',
    title: (c) => `synchronous call from the main thread, ${k(c.syncCalls)} blocking no-op calls`,
    outputs: [
      { key: 'p50Us', unit: 'µs p50', better: 'lower' },
      { key: 'p99Us', unit: 'µs p99', better: 'lower' },
    ],
    reference: 'raw-sab',
  },
  {
    id: 'sync-worker',
    group: 'sync',
    module: 'sync.js',
    run: 'fromWorker',
    title: (c) => `synchronous call from a worker into the main thread's loop, ${k(c.syncCalls)} blocking no-op calls`,
    outputs: [
      { key: 'p50Us', unit: 'µs p50', better: 'lower' },
      { key: 'p99Us', unit: 'µs p99', better: 'lower' },
    ],
    reference: 'raw-message',
  },
];

/** Groups --only understands; 'shared' is bench/shared.js (queues and locks), run separately. */
export const GROUPS = [...new Set(MEASUREMENTS.map((m) => m.group)), 'shared', 'distributed'];

export function findMeasurement(id) {
  const measurement = MEASUREMENTS.find((m) => m.id === id);
  if (!measurement) throw new Error(`unknown measurement "${id}"`);
  return measurement;
}
