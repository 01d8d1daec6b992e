// Workload sizes. Full mode follows the issue; quick mode shrinks what dominates the run time.

const MiB = 1024 * 1024;

const FULL = {
  // Three rounds: the run must stay under 12 minutes on a 2-core machine, and on a slower one (an
  // AMD EPYC VM: 1032 s for the local part alone with five rounds) only three fit.
  rounds: 3,
  /** Which measurements share a child process (see lib/jobs.js). */
  share: 'module',
  workers: 2,
  noopTasks: 50_000,
  // A fifth of the workload, repeated for noopWarmupMs (see metrics/noop.js): the warm-up is
  // bounded by time for the fast pools anyway, and 50,000 took a slow one (9k tasks/s) 5 s a round.
  noopWarmup: 10_000,
  noopWarmupMs: 500,
  noopMs: 500, // at least one workload, repeated for this long: the steady state, timed
  windowTasks: 50_000,
  /** Python's to_thread runs ~5k no-op tasks/s: its no-op workloads are this size (it is a reference, not a target). */
  pythonNoopTasks: 10_000,
  inFlight: 1_000,
  /** The blocking and sequential calls' warm-up lasts at least this long (and their count). */
  latencyWarmupMs: 600,
  roundtripCalls: 2_000,
  roundtripWarmup: 2_000,
  cpuTasks: 32,
  fibN: 27,
  cpuReps: 9,
  payloadBytes: MiB,
  payloadWarmupMs: 300,
  payloadMs: 1_000,
  payloadInFlight: 4,
  payloadSequential: 64,
  idleMs: 300,
  syncCalls: 2_000,
  syncWarmup: 500,
  streamChunks: 200_000,
  streamWarmup: 50_000,
  childTimeoutMs: 120_000,
};

const QUICK = {
  ...FULL,
  // Three rounds, not two: on a busy 2-core machine latencies are bimodal from one process to the
  // next, and a median of two is just their mean. What shrinks is the rest: starting a child and
  // its pool (0.3-0.4 s) is most of a quick measurement, so a contender's measurements share one
  // child per round, and there is little work in each.
  rounds: 3,
  share: 'contender',
  noopTasks: 10_000,
  noopWarmup: 5_000, // half the workload, repeated for noopWarmupMs
  // Long enough to time the steady state, as the full run does: after 80 ms a fast pool still
  // ran partly unoptimized (a third of its warm speed on an Intel VM: 143k tasks/s against 440k;
  // V8 compiles on a background thread, which competes with the workers on two cores), and a
  // quick run reported a third of the full run's ratios. The time buys it the child's first
  // measurement: the others share its compiled code.
  noopWarmupMs: 300,
  noopMs: 120,
  windowTasks: 10_000,
  latencyWarmupMs: 400, // blocking calls take a few thousand to settle into spinning (see harness.js)
  roundtripCalls: 1_000,
  roundtripWarmup: 300,
  cpuTasks: 16,
  fibN: 25, // about 1 ms a task: dispatch is still under 1 % of it
  cpuReps: 3,
  payloadWarmupMs: 200, // 50 ms timed a transfer loop at a third of its warm speed
  payloadMs: 100,
  payloadSequential: 16,
  idleMs: 100,
  syncCalls: 1_000,
  syncWarmup: 200,
  streamChunks: 20_000,
  streamWarmup: 5_000,
  childTimeoutMs: 60_000,
};

export function benchConfig({ quick, rounds }) {
  const config = { ...(quick ? QUICK : FULL), mode: quick ? 'quick' : 'full' };
  if (rounds) config.rounds = rounds;
  return config;
}
