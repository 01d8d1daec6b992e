// The README's "Performance" numbers (see readme-tables.mjs): the latest run's medians with
// their spread, its targets — met, or missed by how much and why — its chart, and the targets
// of the recent runs, so that one run is never all there is to read.
import { formatNumber } from '../bench/lib/format.js';

/** The rows: a measurement's output, and what the "raw" column compares with. */
const ROWS = [
  { id: 'noop-burst', key: 'opsPerSec', label: 'no-op tasks/s, all at once', raw: ['raw-batch', 'raw-message'] },
  { id: 'noop-window', key: 'opsPerSec', label: 'no-op tasks/s, 1k in flight', raw: ['raw-batch', 'raw-message'] },
  { id: 'roundtrip', key: 'p50Us', label: 'sequential round trip, p50 µs', raw: ['raw-message', 'raw-sab'] },
  { id: 'sync', key: 'p50Us', label: 'blocking call (`resultSync`), p50 µs', raw: ['raw-sab'] },
  { id: 'sync-worker', key: 'p50Us', label: 'a worker blocking on `mainLoop()`, p50 µs', raw: ['raw-message'] },
  { id: 'cpu', key: 'speedup', label: 'CPU-bound speed-up, ×', raw: ['raw-message'] },
  { id: 'payload-clone', key: 'mibPerSec', label: '1 MiB cloned both ways, MiB/s', raw: ['raw-message'] },
  { id: 'payload-transfer', key: 'mibPerSec', label: '1 MiB transferred both ways, MiB/s', raw: ['raw-message'] },
  { id: 'stream', key: 'chunksPerSec', label: 'streamed chunks/s', raw: ['raw-message'] },
  { id: 'startup', key: 'startMs', label: 'new pool to first result, ms', raw: ['raw-message'] },
  { id: 'startup', key: 'idleRssMiB', label: 'RSS of an idle 2-worker pool, MiB', raw: ['raw-message'] },
];

const RAW_NAMES = { 'raw-message': 'one message per task', 'raw-batch': 'one message per batch', 'raw-sab': 'SAB ping-pong' };

/**
 * Why a target is missed, where that is known: what limits it on this machine. Words, no
 * numbers of a particular run (those are in the list, from the run itself).
 */
const WHY = {
  'no-op throughput (all at once) >= 0.5x raw batched':
    'the raw reference does nothing per task but send it; threadloop keeps a Future, a call record, a start/withdraw cell and run-time statistics per task, which on the main thread costs more than the dispatch itself.',
  'no-op throughput (1k in flight) >= 0.5x raw batched':
    'as above: the per-task bookkeeping on the main thread, against a reference that has none.',
  'no-op throughput (all at once) >= 10x piscina default, every round':
    "a burst lasts tens of milliseconds; on a 2-core machine shared with other work, the round in which threadloop lost a core for part of it sets this ratio (piscina, at a tenth of the speed, loses less to the same stall). And a burst of 50,000 is bound by the main thread's garbage collector, most on the Intel Xeon VM (profiled: a third of the main thread's time): each call in flight holds about 490 bytes (its Future, which is a Promise with its resolve function; the call record; the argument list), so a burst outgrows V8's young generation (16 MiB) and every call in it is copied and promoted. Node's `--max-semi-space-size=64` made the same burst 11–26% faster there (three alternating pairs of runs); an application that submits tens of thousands of tasks at once may want it too.",
  'no-op throughput (1k in flight) >= 10x piscina default, every round':
    'as above: one round with a stolen core, and the main thread\'s garbage collector.',
  'sequential round-trip p50 <= 0.5x piscina default':
    'both pay the same two message hand-offs between threads, which are most of a round trip here; half of piscina would be less than the hand-offs cost.',
  'sequential round-trip p50 <= raw ping-pong (message)':
    "when a vCPU is idle the VM halts it and waking it costs 40–80 µs: a worker that has just answered lingers (spins briefly) and the next call reaches it through shared memory, which takes threadloop well under raw. On a loaded machine the threads share CPUs with other processes, lingering backs off (a spin there only holds up the thread it waits for), and threadloop pays its own per-call work on top of the same two hand-offs.",
  'resultSync p50 <= 0.2x synckit':
    'with each thread on a CPU of its own, a blocking call is a shared-memory hand-off each way plus the call table\'s work, a few microseconds, while synckit sleeps and pays two wake-ups. When the machine is loaded the caller and the worker end up taking turns on one CPU; spinning cannot help then (the answer cannot come while the caller spins), so both back off to sleeping, and a call costs what synckit\'s does.',
  'resultSync p50 <= 3x raw SAB spin-then-wait':
    "the reference moves one int32 and runs nothing else; a blocking call adds the Future, the call record, the frame's encoding in shared memory and the worker's run of a real task — a few microseconds in all with both threads spinning on CPUs of their own, which is then 5–8× the reference here (traced on the Intel Xeon VM, one call of 5.6 µs: 2.5 µs the caller's own work between a result and the next call — the Future, the call record, settling — 1.5 µs the worker's, and 0.7–1 µs each hand-off, where the reference's whole round trip is 0.6–0.8 µs). threadloop backs off from spinning where it does not pay (not while a caller blocks), and a caller and a worker take a few thousand calls to reach their pace (compiled code, both spinning); the reference spins always, whatever it costs the machine. In a round where the reference got two CPUs and threadloop's threads shared one, the ratio is tens.",
  'a worker blocking on mainLoop() p50 <= 0.2x synckit':
    "the references block the main thread on a worker, which may spin for its answer; here the thread that answers is the main thread, and it answers from its event loop, which must not spin (it is what the application runs on). So every call wakes the main thread's event loop — a message through its port, a system call to wake it, and on this VM often a halted vCPU — and that wake-up is most of the time here. The same direction with raw `worker_threads` (one message per call, in the table: a worker's call into the main thread) is slower than threadloop's in every run here; answering faster would take a main thread that polls instead of serving its loop.",
  'a worker blocking on mainLoop() p50 <= 3x raw SAB spin-then-wait':
    'as above: the reference spins on both sides, and a main thread serving its event loop cannot.',
  'CPU-bound speed-up >= 0.95x hardware capacity (raw, same run)':
    'with 16–32 tasks of 1–3 ms on 2 workers, one task more or less on one worker at the end moves the ratio by several percent, and a neighbour taking a core for part of a run moves it more.',
  '1 MiB transfer throughput >= 0.9x raw':
    "the buffer is transferred, never copied, and the size does not matter: the same loop of no-op calls gives the same ratio. It is a closed loop of 4 callers on 2 workers, where each call costs thread wake-ups (on this VM about 15 µs, or about 90 µs when the target CPU had gone idle). threadloop sends the calls made in one turn as one message — what makes bursts over 10× piscina — and here that makes the main thread and the workers take turns instead of overlapping: a worker runs dry and sleeps while the main thread gathers its next pair, where the raw reference sends each next call as its result arrives. One caller at a time is as fast as raw. Sending each call at once reached raw's speed at moderate load but swung between 2× and 0.3× of raw from round to round on a loaded machine, so batching stays; within one run the fastest round of either is often 2–4× its slowest, which is wider than this gap.",
  'idle RSS of a 2-worker pool <= raw workers + 1 MiB':
    "the runtime's code in each worker (about half a MiB of heap) and the pool's state on the main thread; the private memory delta, in the table the bench prints, is the lowest of the pools.",
  'start to first result <= raw + 10%':
    'creating the pool on the main thread and resolving `threadloop/task` in each worker; a task module that imports nothing from threadloop starts as fast as a raw worker.',
  'ThreadQueue numbers items/s >= 10x MessagePort':
    "10× is out of reach for a per-item loop: the main thread's `await q.get()` alone runs at 8–9M items/s, and a MessagePort moves 1.2–1.9M here.",
};

/** A margin with two decimals, rounded toward the bound's side: a miss never reads 1.00. */
const margin = (m) => (m >= 10 ? Math.floor(m).toFixed(0) : (Math.floor(m * 100) / 100).toFixed(2));

const spread = (s) => (s.samples.length > 1 ? ` (${formatNumber(s.min)}–${formatNumber(s.max)})` : '');
const cell = (s) => (s === undefined ? '—' : `${formatNumber(s.median)}${spread(s)}`);

/**
 * The best peer of a row: another Node.js library (not threadloop's own variants, not a raw
 * reference, and not Python's in-process threads, which the chart and the bench's report show).
 */
function bestPeer(output) {
  let best;
  for (const [id, s] of Object.entries(output.byContender)) {
    if (id.startsWith('threadloop') || id.startsWith('raw-') || id === 'piscina' || id === 'python') continue;
    if (best === undefined || (output.better === 'higher' ? s.median > best[1].median : s.median < best[1].median)) best = [id, s];
  }
  return best;
}

function metricsTable(run) {
  const lines = [
    '| metric | threadloop | piscina | best other peer | raw `worker_threads` |',
    '|---|---|---|---|---|',
  ];
  for (const row of ROWS) {
    const output = run.measurements.find((m) => m.id === row.id)?.outputs.find((o) => o.key === row.key);
    if (output === undefined) continue;
    const by = output.byContender;
    const peer = bestPeer(output);
    const raws = row.raw.filter((id) => by[id] !== undefined).map((id) => `${cell(by[id])} ${RAW_NAMES[id]}`);
    lines.push(`| ${row.label} | ${cell(by.threadloop)} | ${cell(by.piscina)} | ${peer ? `${cell(peer[1])} ${peer[0]}` : '—'} | ${raws.join('; ') || '—'} |`);
  }
  return lines.join('\n');
}

/** How far a target is from its bound, in words. */
function distance(t) {
  if (t.pass === null || t.pass === undefined) return 'not measured';
  if (t.margin === undefined) return t.pass ? 'met' : 'missed';
  return t.pass ? `met with ${margin(t.margin)}× to spare` : `missed: ${(Math.ceil(100 / t.margin) / 100).toFixed(2)}× short of the bound`;
}

function targetList(run) {
  return run.targets
    .map((t) => {
      const mark = t.pass === true ? '✓' : t.pass === false ? '✗' : '–';
      const why = t.pass === false && WHY[t.name] !== undefined ? ` Why: ${WHY[t.name]}` : '';
      return `- ${mark} ${t.name}: ${t.detail}; ${distance(t)}.${why}`;
    })
    .join('\n');
}

/** The last `count` complete runs of history (runs narrowed with --only or --contenders are left out). */
function recentRuns(history, count) {
  return history.filter((h) => !h.only && !h.narrowed).slice(-count);
}

function historyTable(history) {
  const runs = recentRuns(history, 6);
  if (runs.length === 0) return '';
  const names = [...new Set(runs.flatMap((r) => r.targets.map((t) => t.name)))];
  // The machine too: runs on this project's machines have met different targets on an Intel Xeon and an AMD EPYC.
  const cpu = (r) => r.cpu.replace(/^\d+ × /, '').replace(/\((R|TM)\)/g, '').replace(/ Processor$/, '').replace(/\s+/g, ' ').trim();
  const head = runs.map((r) => `${r.date.slice(5, 16).replace('T', ' ')} ${r.mode}, ${cpu(r)}, load ${r.load[0].toFixed(1)}`);
  const lines = [
    `The targets in the last ${runs.length} complete runs of this code (\`bench/results/history.jsonl\`; each cell: how many times better than its bound, ✓ ≥ 1):`,
    '',
    `| target | ${head.join(' | ')} |`,
    `|---|${runs.map(() => '---:').join('|')}|`,
  ];
  for (const name of names) {
    const cells = runs.map((r) => {
      const t = r.targets.find((x) => x.name === name);
      if (t?.pass === true) return t.margin === undefined ? '✓' : `✓ ${margin(t.margin)}`;
      if (t?.pass === false) return t.margin === undefined ? '✗' : `✗ ${margin(t.margin)}`;
      return '–';
    });
    lines.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  const met = runs.map((r) => `${r.targets.filter((t) => t.pass === true).length}/${r.targets.length}`);
  lines.push(`| **met** | ${met.join(' | ')} |`);
  lines.push(`| run time, s (quick < 120, full < 720) | ${runs.map((r) => r.seconds).join(' | ')} |`);
  return lines.join('\n');
}

/**
 * Why the distributed targets are missed, where they are: what the two steps cost, with this
 * run's own numbers where the rows have them (`rows`: the run's distributed rows).
 */
function distributedWhy(rows) {
  const pair = (backend) => ({ ours: rows.find((r) => r.backend === backend && r.id === 'threadloop'), raw: rows.find((r) => r.backend === backend && r.id === 'raw') });
  const redis = pair('redis');
  const postgres = pair('postgres');
  const ms = (v) => (v === undefined ? '?' : v.toFixed(2));
  const pct = (v) => (v === undefined ? '?' : `${(100 * v).toFixed(0)}%`);
  const parts = [
    "every job of threadloop's takes a step raw BullMQ's does not, a hand-off to the worker's thread pool and back (raw BullMQ runs the no-op on the worker's event loop, where a CPU-bound job would stop the worker); and a job sent while others of its producer are in flight takes a second, its producer's consent before it starts (so that `future.cancel()` can answer at once and truthfully).",
  ];
  if (redis.ours?.aloneP50Ms !== undefined && redis.raw?.aloneP50Ms !== undefined) {
    parts.push(`The consent is a trip from the worker to the producer and back through the server (the 'active' event the producer reads, the consent the worker reads), which a job sent alone to an idle worker skips: it is committed at submit. A job begins on the worker as BullMQ fetches it, so its hand-off overlaps the query BullMQ's loop makes before it calls the processor (for a job alone, one that finds the queue empty). On Redis a job alone took ${ms(redis.ours.aloneP50Ms)} ms against raw BullMQ's ${ms(redis.raw.aloneP50Ms)}${postgres.ours?.aloneP50Ms !== undefined && postgres.raw?.aloneP50Ms !== undefined ? `, on PostgreSQL ${ms(postgres.ours.aloneP50Ms)} against ${ms(postgres.raw.aloneP50Ms)}` : ''}: what a job alone pays beyond raw BullMQ's is mostly the rest of the hand-off, a thread woken each way, which took 0.2 ms each way in traces where the machine's two CPUs were busy with the server, the producer and the worker at that very moment (20 µs on an idle machine). With many jobs in flight the consent's trip is hidden: a worker takes jobs ahead while their consent would idle its slots.`);
  }
  if (redis.ours?.pacedP50Ms !== undefined && redis.raw?.pacedP50Ms !== undefined) {
    parts.push(`At a steady half of raw BullMQ's jobs/s, which the targets do not cover, jobs overlap: on Redis threadloop's p50 was ${ms(redis.ours.pacedP50Ms)} ms against raw BullMQ's ${ms(redis.raw.pacedP50Ms)}${postgres.ours?.pacedP50Ms !== undefined && postgres.raw?.pacedP50Ms !== undefined ? `, on PostgreSQL ${ms(postgres.ours.pacedP50Ms)} against ${ms(postgres.raw.pacedP50Ms)}` : ''}. There a job waits for its consent, and the worker takes jobs ahead to hide that wait (three per run slot for no-op jobs), which raises its BullMQ concurrency; traced at such a load, a job waited longest in the queue before BullMQ fetched it and, its run done, for BullMQ's loop to complete it. Holding one ahead per slot instead of three cut the p50 at that load from 16-21 ms to 10-14 in alternating quick runs, but cost a sixth of the throughput with 64 in flight. In earlier scratch runs on Redis at that load, \`takeAhead: false\` gave a p50 of 2.2-2.6 ms against raw BullMQ's 2.4-2.8, and committing every job 3 ms, but of four signals tried for stopping the take-ahead at such a load (the queue found empty, fewer jobs held than run slots, jobs mostly committed, the queue's waiting count read every 100 ms), three also fired with 64 in flight, costing 15-40% of the throughput there, and the last did not fire at half load. On a slower machine (2 × AMD EPYC, raw BullMQ at 3,200 jobs/s with 64 in flight), at 1,600 jobs/s in scratch runs, \`takeAhead: false\` gave 8 ms in some rounds and 120-280 ms in others (eight slots that each wait out a consent of about 5 ms start about that many jobs a second), and committing every job 17 ms against 19: there what costs is the CPU per job, threadloop at 55-65% of its own capacity where raw BullMQ is at half of its.`);
  }
  if (redis.ours?.workerCpuUsPerJob !== undefined && redis.raw?.workerCpuUsPerJob !== undefined) {
    parts.push(`Throughput is the CPU each job costs on a 2-core machine that also runs the server and the producer: per no-op job on Redis, threadloop's worker process used ${Math.round(redis.ours.workerCpuUsPerJob)} µs against raw BullMQ's ${Math.round(redis.raw.workerCpuUsPerJob)} (and the producer about 1.5x raw BullMQ's). Neither step is most of it: in alternating scratch runs on the Intel Xeon machine, a worker whose pool was replaced by an executor that runs nothing (no hand-off) did 0.72-0.80x raw BullMQ's no-op jobs/s, and with every job committed as well (no consent either) 0.69-0.74x. The rest is the layer's own work per job, spread thin over both sides — the futures, the run slots, packing and unpacking, job data and ids longer than raw BullMQ's in every command, and the garbage all that makes (profiled, per job: the producer's main thread 109 µs against 72, the worker's 225 against 153, of it garbage collection +6 and +10, threadloop's own functions about 8 and 25, with no one hot spot). A thread's hand-off costs its waker more on these virtual machines than on hardware: a post to a parked thread took 14 µs on an idle machine and about 45 µs at this load (measured in the worker), one per batch of jobs started together. The server's own cost narrows the gap: the bench's private Redis writes every change to its append-only file and fsyncs it before answering (\`appendfsync always\`, which the tests' server-restart case needs), and with persistence off raw BullMQ did about 6,100 no-op jobs/s against threadloop's 3,750 (0.62x, seven alternating rounds).`);
  }
  if (postgres.ours?.slowShare !== undefined && postgres.raw?.slowShare !== undefined) {
    parts.push(`With 64 jobs in flight, a job's latency is mostly its wait behind the others. On PostgreSQL it also follows how many of the 64 wait on a result that BullMQ 6.7's event reader skipped (it pages by id, and ids commit out of order): the raw producer here looks such a job up after half a second, threadloop's once it has been quiet for 20 times the jobs' median run (at least 100 ms) — the p99: here ${pct(postgres.ours.slowShare)} of threadloop's jobs and ${pct(postgres.raw.slowShare)} of raw BullMQ's took over 300 ms, and the contender with fewer jobs waiting so has more of the 64 queueing behind each other, so a higher p50 for as much or more throughput.`);
  }
  parts.push("On PostgreSQL the server is the bottleneck, and raw BullMQ's share of it includes deleting finished jobs at each completion, by a plan that can read every job of the queue (0.7-1.5 ms of the server per completion in scratch runs, pg_stat_statements); threadloop's producer sweeps them instead (retention.ts). Taking the consent out under load was tried again (every job committed): slower, 5,300-5,500 jobs/s against 6,100-6,700 on Redis in alternating scratch runs (jobs then reach the pool one at a time, a thread wake each); `cancel()` that tells the truth, and CPU-bound jobs that do not stop the worker, are what the two steps are for.");
  return parts.join(' ');
}

function distributedBlock(distributed) {
  if (distributed === undefined || distributed.error || !Array.isArray(distributed.rows) || distributed.rows.length === 0) {
    return `threadloop/bullmq against raw BullMQ: not measured in this run${distributed?.error ? ` (${distributed.error})` : ''}.`;
  }
  const rows = distributed.rows;
  const rounds = rows[0].rounds;
  // (Runs before the one-at-a-time latency have no such column.)
  const alone = rows.some((r) => r.aloneP50Ms !== undefined);
  const steady = rows.some((r) => r.pacedP50Ms !== undefined);
  const steadyRates = [...new Map(rows.filter((r) => r.pacedRate !== undefined).map((r) => [r.backend, r.pacedRate])).entries()].map(([backend, rate]) => `${formatNumber(rate)} jobs/s on ${backend}`).join(', ');
  const aloneJobs = [...new Map(rows.map((r) => [r.backend, r.aloneJobs])).entries()].map(([backend, jobs]) => `${formatNumber(jobs)} a round on ${backend}`).join(', ');
  const warmups = [...new Map(rows.map((r) => [r.backend, r.warmupJobs])).entries()].map(([backend, jobs], i) => `${formatNumber(jobs)}${i === 0 ? ' untimed jobs' : ''} on ${backend}`);
  const warmup = rows[0].warmedOnce
    ? `, each contender's worker process started once per backend (on PostgreSQL, with a database of its own) and warmed up with ${warmups.join(', ')}`
    : rows[0].warmupJobs > 0 ? ', each round after a quarter as many untimed' : '';
  const lines = [
    `**Beyond one machine** (\`bench/distributed.js\`, in the same run): no-op jobs through a private server, 64 in flight${warmup}, one worker process with one thread and 8 jobs at once${rounds === undefined ? '' : `, median of ${rounds} alternating rounds (lowest and highest in brackets)`}${alone ? `; then jobs one at a time (${aloneJobs}), in as many rounds, for the latency a job alone sees` : ''}${steady ? `; then jobs sent at a steady half of raw BullMQ's jobs/s (${steadyRates}), three rounds, for the latency at that load (counted from when each was due)` : ''}; then CPU-bound jobs on one worker process and on two.`,
    '',
    `| backend | contender | no-op jobs/s | p50 ms | p99 ms |${alone ? ' p50 ms, one at a time |' : ''}${steady ? ' p50 / p99 ms, half load |' : ''} worker CPU per job, µs | CPU-bound speed-up, 1 → 2 processes |`,
    `|---|---|---|---|---|${alone ? '---|' : ''}${steady ? '---|' : ''}---|---|`,
  ];
  for (const r of rows) {
    const range = r.jobsPerSecRange === undefined ? '' : ` (${formatNumber(r.jobsPerSecRange[0])}–${formatNumber(r.jobsPerSecRange[1])})`;
    const cpu = r.workerCpuUsPerJob === undefined ? '—' : formatNumber(r.workerCpuUsPerJob);
    const aloneCell = alone ? ` ${r.aloneP50Ms === undefined ? '—' : r.aloneP50Ms.toFixed(2)} |` : '';
    const steadyCell = steady ? ` ${r.pacedP50Ms === undefined ? '—' : `${r.pacedP50Ms.toFixed(2)} / ${formatNumber(r.pacedP99Ms)}`} |` : '';
    lines.push(`| ${r.backend} | ${r.contender} | ${formatNumber(r.jobsPerSec)}${range} | ${formatNumber(r.p50Ms)} | ${formatNumber(r.p99Ms)} |${aloneCell}${steadyCell} ${cpu} | ${r.speedup.toFixed(2)} |`);
  }
  lines.push('');
  // The ratio said again from the rows, rounded toward a miss (older runs rounded to nearest: a 0.899 read 0.90).
  const ratioOf = (t) => {
    const [backend] = t.name.split(':');
    const ours = rows.find((r) => r.backend === backend && r.id === 'threadloop');
    const raw = rows.find((r) => r.backend === backend && r.id === 'raw');
    if (ours === undefined || raw === undefined) return t.detail;
    const throughput = /throughput/.test(t.name);
    const x = throughput ? ours.jobsPerSec / raw.jobsPerSec : /alone/.test(t.name) ? ours.aloneP50Ms / raw.aloneP50Ms : ours.p50Ms / raw.p50Ms;
    return t.detail.replace(/^[\d.]+x/, `${(Math[throughput ? 'floor' : 'ceil'](x * 100) / 100).toFixed(2)}x`);
  };
  for (const t of distributed.targets) lines.push(`- ${t.pass ? '✓' : '✗'} ${t.name}: ${ratioOf(t)}.`);
  const sandboxed = [...new Set(rows.map((r) => r.backend))].flatMap((backend) => {
    const ours = rows.find((r) => r.backend === backend && r.id === 'threadloop');
    const theirs = rows.find((r) => r.backend === backend && r.id === 'sandboxed');
    return ours && theirs ? [`${(ours.jobsPerSec / theirs.jobsPerSec).toFixed(1)}× its no-op jobs/s on ${backend}`] : [];
  });
  if (distributed.targets.some((t) => !t.pass)) {
    lines.push('', `Why the misses: ${distributedWhy(rows)}${sandboxed.length > 0 ? ` Against BullMQ's own way to keep work off the event loop, its sandboxed processor in worker threads, threadloop/bullmq did ${sandboxed.join(' and ')} in this run.` : ''}`);
  }
  return lines.join('\n');
}

/** The "Performance" block for `run`, with `history` (parsed history.jsonl lines, oldest first). */
export function performanceBlock(run, history) {
  const m = run.machine;
  const met = run.targets.filter((t) => t.pass === true).length;
  const load = `load average ${m.loadAverageAtStart[0].toFixed(1)} at the start, ${m.loadAverageAtEnd[0].toFixed(1)} at the end`;
  const intro =
    `The run in \`bench/results/latest.json\`: \`npm run bench${run.config.mode === 'quick' ? ' -- --quick' : ''}\`, ` +
    `${run.config.rounds} rounds, ${m.date.slice(0, 10)}, ${m.cores} × ${m.cpu}, Node ${m.node}, ${load}, ` +
    `${Math.round(run.durationMs / 1000)} s. Each value is the median of the rounds, with the lowest and highest round in brackets. ` +
    `threadloop met **${met} of ${run.targets.length}** targets in this run.`;
  return [
    intro,
    '',
    metricsTable(run),
    '',
    '![threadloop against each peer and the raw references, metric by metric (bench/results/latest.svg)](bench/results/latest.svg)',
    '',
    'The targets (issues 7 and 18), checked against the medians of this run:',
    '',
    targetList(run),
    '',
    historyTable(history),
    '',
    distributedBlock(run.distributed),
  ].join('\n');
}
